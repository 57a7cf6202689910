/**
 * SBI (v2.0 subset) and AxVisor hypercall constants, as guests see them (guest-abi.md).
 *
 * @module
 */

/** SBI extension ids. */
export const SbiExtension = {
  /** Legacy set_timer (function id in a7). */
  LegacySetTimer: 0x00,
  /** Legacy console_putchar. */
  LegacyPutchar: 0x01,
  /** Legacy console_getchar. */
  LegacyGetchar: 0x02,
  /** Legacy clear_ipi. */
  LegacyClearIpi: 0x03,
  /** Legacy send_ipi. */
  LegacySendIpi: 0x04,
  /** Legacy remote_fence_i. */
  LegacyRemoteFenceI: 0x05,
  /** Legacy remote_sfence_vma. */
  LegacyRemoteSfenceVma: 0x06,
  /** Legacy remote_sfence_vma_asid. */
  LegacyRemoteSfenceVmaAsid: 0x07,
  /** Legacy shutdown. */
  LegacyShutdown: 0x08,
  /** Base extension. */
  Base: 0x10,
  /** Timer extension ("TIME"). */
  Time: 0x54494d45,
  /** IPI extension ("sPI"). */
  Ipi: 0x735049,
  /** Remote fence extension ("RFNC"). */
  Rfence: 0x52464e43,
  /** Hart state management ("HSM"). */
  Hsm: 0x48534d,
  /** System reset ("SRST"). */
  Srst: 0x53525354,
  /** Debug console ("DBCN"). */
  Dbcn: 0x4442434e,
  /** AxVisor hypercalls ("HVC"). */
  Hvc: 0x485643,
} as const;

/** SBI error codes. */
export const SbiError = {
  /** Success. */
  Success: 0,
  /** Failed. */
  Failed: -1,
  /** Not supported. */
  NotSupported: -2,
  /** Invalid parameter. */
  InvalidParam: -3,
  /** Denied. */
  Denied: -4,
  /** Invalid address. */
  InvalidAddress: -5,
  /** Already available. */
  AlreadyAvailable: -6,
  /** Already started. */
  AlreadyStarted: -7,
  /** Already stopped. */
  AlreadyStopped: -8,
} as const;

/** HSM hart states returned by hart_get_status. */
export const HsmStatus = {
  /** Started. */
  Started: 0,
  /** Stopped. */
  Stopped: 1,
  /** Start pending. */
  StartPending: 2,
  /** Stop pending. */
  StopPending: 3,
  /** Suspended. */
  Suspended: 4,
  /** Suspend pending. */
  SuspendPending: 5,
  /** Resume pending. */
  ResumePending: 6,
} as const;

/** AxVisor's `HyperCallCode` values (`a6` of the HVC extension). */
export const HyperCallCode = {
  /** Disable the hypervisor (host VM only). */
  HypervisorDisable: 0,
  /** Prepare disabling the hypervisor (host VM only). */
  HyperVisorPrepareDisable: 1,
  /** Debug hypercall: logs its arguments. */
  HyperVisorDebug: 2,
  /** IVC publish(key, base_ptr, size_ptr). */
  HIVCPublishChannel: 3,
  /** IVC subscribe(publisher_vm_id, key, base_ptr, size_ptr). */
  HIVCSubscribChannel: 4,
  /** IVC unpublish(key). */
  HIVCUnPublishChannel: 5,
  /** IVC unsubscribe(publisher_vm_id, key). */
  HIVCUnSubscribChannel: 6,
} as const;

/** Name of a hypercall code, or `Unknown(n)`. */
export function hyperCallName(code: number): string {
  const e = Object.entries(HyperCallCode).find(([, v]) => v === code);
  return e ? e[0] : `Unknown(${code})`;
}

/** SBI specification version reported by get_spec_version (2.0). */
export const SBI_SPEC_VERSION = 2 << 24;
/** SBI implementation id reported by get_impl_id (unregistered; "AX"). */
export const SBI_IMPL_ID = 0x4158;
/** SBI implementation version reported by get_impl_version. */
export const SBI_IMPL_VERSION = 0x0100;

/** SRST reset types. */
export const SrstType = {
  /** Shutdown. */
  Shutdown: 0,
  /** Cold reboot. */
  ColdReboot: 1,
  /** Warm reboot. */
  WarmReboot: 2,
} as const;

/** Whether probe_extension reports `ext` as available. */
export function sbiExtensionAvailable(ext: number): boolean {
  return (ext >= 0 && ext <= 8) ||
    [
      SbiExtension.Base,
      SbiExtension.Time,
      SbiExtension.Ipi,
      SbiExtension.Rfence,
      SbiExtension.Hsm,
      SbiExtension.Srst,
      SbiExtension.Dbcn,
      SbiExtension.Hvc,
    ].includes(ext as never);
}
