/**
 * Flattened device trees: an in-memory tree ({@linkcode FdtNode}), a DTB v17 writer and a reader.
 *
 * ```ts
 * import { FdtNode, readFdt, writeFdt } from "./mod.ts";
 * const root = new FdtNode().set("#address-cells", 2).set("#size-cells", 2);
 * root.add("chosen").set("stdout-path", "/soc/serial@10000000");
 * const dtb = writeFdt(root);
 * readFdt(dtb).root.find("/chosen")?.getString("stdout-path"); // "/soc/serial@10000000"
 * ```
 *
 * @module
 */
export * from "./node.ts";
export * from "./writer.ts";
export * from "./reader.ts";
