/**
 * The AxVisor shell: the seed's command framework (tokenizer, command tree, definition-driven
 * parser, generated help, history, completion) and every command (base, filesystem, `vm`,
 * `vcpu`, `config`). Handlers return {@linkcode CommandOutcome}s; nothing prints.
 *
 * @module
 */
export * from "./cancel.ts";
export * from "./command_tree.ts";
export * from "./completion.ts";
export * from "./context.ts";
export * from "./format.ts";
export * from "./fs_errors.ts";
export * from "./help.ts";
export * from "./history.ts";
export * from "./outcome.ts";
export * from "./parser.ts";
export * from "./paths.ts";
export * from "./runner.ts";
export * from "./session.ts";
export * from "./shell.ts";
export * from "./tokenizer.ts";
export * from "./user_regexp.ts";
export * from "./vm_data.ts";
export * from "./commands/base.ts";
export * from "./commands/config_check.ts";
export * from "./commands/fs.ts";
export * from "./commands/vcpu.ts";
export * from "./commands/vm_console.ts";
export * from "./commands/vm_info.ts";
export * from "./commands/vm_lifecycle.ts";
export * from "./commands/vm_target.ts";
