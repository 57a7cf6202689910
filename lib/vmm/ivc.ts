/**
 * Inter-VM communication (IVC): shared-memory channels keyed by (publisher VM id, key).
 *
 * A publisher asks for a size; the channel's memory (whole 4 KiB frames) is mapped read/write in
 * the publisher's IVC device range and, on subscribe, in each subscriber's. The first 16 bytes
 * hold `{ publisher_vm_id: u64, key: u64 }`. The memory lives until the channel is unpublished
 * and no subscriber is left.
 *
 * @module
 */

import { SparseMemory } from "../hw/memory.ts";

/** Raised for an IVC request that cannot be honoured (the guest gets -1). */
export class IvcError extends Error {
  /** Error code for structured output. */
  readonly code = "EIVC";
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "IvcError";
  }
}

/** What a VM offers the IVC registry: mapping shared memory into its IVC device range. */
export interface IvcEndpoint {
  /** VM id. */
  readonly id: number;
  /** Maps `size` bytes of `memory` into the VM's IVC range; returns the chosen GPA. */
  mapShared(memory: SparseMemory, size: number, label: string): number;
  /** Unmaps what {@linkcode IvcEndpoint.mapShared} mapped at `gpa`. */
  unmapShared(gpa: number): void;
}

/** One channel. */
export interface IvcChannel {
  /** Publisher VM id. */
  publisherId: number;
  /** Channel key. */
  key: bigint;
  /** Size in bytes (a multiple of 4096). */
  size: number;
  /** The shared memory. */
  memory: SparseMemory;
  /** GPA in the publisher, or undefined once unpublished. */
  publisherGpa?: number;
  /** The publisher endpoint while published. */
  publisher?: IvcEndpoint;
  /** Subscribers: VM id to endpoint and GPA. */
  subscribers: Map<number, { endpoint: IvcEndpoint; gpa: number }>;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** Maximum size of one channel (16 MiB). */
export const IVC_MAX_CHANNEL_SIZE = 16 * 1024 * 1024;

/** The hypervisor-wide registry of IVC channels. */
export class IvcRegistry {
  #channels = new Map<string, IvcChannel>();

  static #id(publisherId: number, key: bigint): string {
    return `${publisherId}:${key}`;
  }

  /** Publishes a channel of at least `requestedSize` bytes; returns its GPA and actual size. */
  publish(vm: IvcEndpoint, key: bigint, requestedSize: number): { gpa: number; size: number } {
    const id = IvcRegistry.#id(vm.id, key);
    const existing = this.#channels.get(id);
    if (existing?.publisher) {
      throw new IvcError(`VM[${vm.id}] already published an IVC channel with key ${hex(key)}`);
    }
    if (existing) {
      throw new IvcError(
        `VM[${vm.id}] IVC channel ${hex(key)} was unpublished but still has subscribers (VM ${
          [...existing.subscribers.keys()].join(", VM ")
        })`,
      );
    }
    if (!(requestedSize > 0) || requestedSize > IVC_MAX_CHANNEL_SIZE) {
      throw new IvcError(
        `IVC publish by VM[${vm.id}] key ${
          hex(key)
        }: size ${requestedSize} is not in 1..${IVC_MAX_CHANNEL_SIZE}`,
      );
    }
    const size = Math.ceil(Math.max(requestedSize, 16) / 4096) * 4096;
    const memory = new SparseMemory(size);
    memory.write64(0, BigInt(vm.id));
    memory.write64(8, BigInt.asUintN(64, key));
    const gpa = vm.mapShared(memory, size, `ivc ${vm.id}:${hex(key)}`);
    this.#channels.set(id, {
      publisherId: vm.id,
      key,
      size,
      memory,
      publisherGpa: gpa,
      publisher: vm,
      subscribers: new Map(),
    });
    return { gpa, size };
  }

  /** Subscribes `vm` to the channel (publisherId, key); returns its GPA and size. */
  subscribe(vm: IvcEndpoint, publisherId: number, key: bigint): { gpa: number; size: number } {
    const ch = this.#channels.get(IvcRegistry.#id(publisherId, key));
    if (!ch || ch.publisher === undefined) {
      throw new IvcError(`no IVC channel published by VM[${publisherId}] with key ${hex(key)}`);
    }
    if (ch.subscribers.has(vm.id)) {
      throw new IvcError(
        `VM[${vm.id}] is already subscribed to IVC channel ${publisherId}:${hex(key)}`,
      );
    }
    if (publisherId === vm.id) {
      throw new IvcError(`VM[${vm.id}] cannot subscribe to its own IVC channel ${hex(key)}`);
    }
    const gpa = vm.mapShared(ch.memory, ch.size, `ivc ${publisherId}:${hex(key)}`);
    ch.subscribers.set(vm.id, { endpoint: vm, gpa });
    return { gpa, size: ch.size };
  }

  /** Unpublishes `vm`'s channel `key`; memory is freed once no subscriber is left. */
  unpublish(vm: IvcEndpoint, key: bigint): void {
    const id = IvcRegistry.#id(vm.id, key);
    const ch = this.#channels.get(id);
    if (!ch || ch.publisher === undefined) {
      throw new IvcError(`VM[${vm.id}] has no published IVC channel with key ${hex(key)}`);
    }
    ch.publisher.unmapShared(ch.publisherGpa!);
    ch.publisher = undefined;
    ch.publisherGpa = undefined;
    if (ch.subscribers.size === 0) this.#channels.delete(id);
  }

  /** Unsubscribes `vm` from (publisherId, key). */
  unsubscribe(vm: IvcEndpoint, publisherId: number, key: bigint): void {
    const id = IvcRegistry.#id(publisherId, key);
    const ch = this.#channels.get(id);
    const sub = ch?.subscribers.get(vm.id);
    if (!ch || !sub) {
      throw new IvcError(
        `VM[${vm.id}] is not subscribed to IVC channel ${publisherId}:${hex(key)}`,
      );
    }
    sub.endpoint.unmapShared(sub.gpa);
    ch.subscribers.delete(vm.id);
    if (ch.publisher === undefined && ch.subscribers.size === 0) this.#channels.delete(id);
  }

  /** Drops every publication and subscription of VM `vmId` (at stop and delete). */
  releaseVm(vmId: number): void {
    for (const ch of [...this.#channels.values()]) {
      const sub = ch.subscribers.get(vmId);
      if (sub) this.unsubscribe(sub.endpoint, ch.publisherId, ch.key);
    }
    for (const ch of [...this.#channels.values()]) {
      if (ch.publisherId === vmId && ch.publisher) this.unpublish(ch.publisher, ch.key);
    }
  }

  /** Every channel (a snapshot for `vm show` and leak checks). */
  channels(): {
    publisherId: number;
    key: bigint;
    size: number;
    published: boolean;
    subscribers: number[];
  }[] {
    return [...this.#channels.values()].map((c) => ({
      publisherId: c.publisherId,
      key: c.key,
      size: c.size,
      published: c.publisher !== undefined,
      subscribers: [...c.subscribers.keys()],
    }));
  }
}
