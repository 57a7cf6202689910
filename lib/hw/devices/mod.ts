/**
 * Emulated devices, one per file: NS16550A UART, PLIC, CLINT/ACLINT and the SiFive test
 * finisher. Each implements {@linkcode MmioDevice} from `../device.ts`.
 *
 * @module
 */
export * from "./ns16550a.ts";
export * from "./plic.ts";
export * from "./aclint.ts";
export * from "./sifive_test.ts";
export * from "./goldfish_rtc.ts";
export type { AccessWidth, DeviceState, IrqLine, MmioDevice } from "../device.ts";
export { NO_IRQ } from "../device.ts";
