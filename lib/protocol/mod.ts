/**
 * The serial-console protocol: line framing, sessions in human and JSON modes, events, console
 * attach, the TCP and stdio transports, batch mode, authentication and read-only sessions, and
 * the host-backed sandboxed filesystem. See docs/protocol.md.
 *
 * ```ts ignore
 * import { ConsoleServer, serveTcp } from "./mod.ts";
 * const server = new ConsoleServer({ backend });
 * const tcp = serveTcp(server, { hostname: "127.0.0.1", port: 0 });
 * console.log(`listening on port ${tcp.addr.port}`);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./line_framer.ts";
export * from "./json_request.ts";
export * from "./events.ts";
export * from "./output_queue.ts";
export * from "./auth.ts";
export * from "./read_only.ts";
export * from "./command_queue.ts";
export * from "./backend.ts";
export * from "./axvisor_backend.ts";
export * from "./session.ts";
export * from "./server.ts";
export * from "./stream_transport.ts";
export * from "./tcp_transport.ts";
export * from "./console_port.ts";
export * from "./attach_escape.ts";
export * from "./stdio_transport.ts";
export * from "./interactive.ts";
export * from "./batch.ts";
export * from "./host_filesystem.ts";
