/**
 * The analyzed block library as plain data: what the emitters need from the
 * block files, with no syntax tree library behind it. `library-analyze.ts`
 * builds it with ts-morph (at build time into compiler/dist/block-library.json,
 * or on the fly for a library without a current artifact); `library.ts` loads
 * it. Everything here is JSON.
 */

/** The Protocol SPI methods the kernel implements (runtime-core spi.ts, `interface Protocol`). */
export const PROTOCOL_METHODS = ["start", "send", "onFrame", "read", "write", "onPeerRestart", "stats", "stop"] as const;
/**
 * Optional Protocol SPI methods: emitted when the library's entry file exports
 * them (a library written before they existed stays valid). `finish`: job
 * completion, runtime-core spi.ts.
 */
export const OPTIONAL_PROTOCOL_METHODS = ["finish"] as const;

/** The return type of an `async: "either"` hook and of its non-async blocks. */
export const EITHER_RETURN = "Promise<void> | void";

/** Module specifiers that mean "the runtime" in block files. */
export const RUNTIME_SPECIFIERS: ReadonlySet<string> = new Set(["@egida/runtime-core", "@egida/runtime-core/spi"]);

/**
 * The runtime's protocol helpers (runtime-core/src/protocol-lib): what block
 * files import from here, generated code imports from here too (a value, not
 * only a type), instead of a copy.
 */
export const RUNTIME_LIB_SPECIFIER = "@egida/runtime-core/protocol-lib";

export interface HookSpec {
  readonly name: string;
  /** Event type text, e.g. "RecvEv". */
  readonly evType: string;
  /** Return type text as declared in Hooks. */
  readonly returnType: string;
  readonly isAsync: boolean;
  /**
   * HOOKS says `async: "either"`: each block may be async or not, and a
   * non-async block may `return` a promise the rest of the chain waits for.
   * `isAsync` is then true (the chain may await); the inline back end decides
   * per protocol (codegen/inline.ts).
   */
  readonly either: boolean;
  /** Blocks may be filters (return boolean): spliced as `if (!(...)) return;` (or `return false` for a boolean chain). */
  readonly isFilter: boolean;
  /** The chain method itself returns boolean (rejection returns false, the end true). */
  readonly returnsBoolean: boolean;
}

export interface FieldSpec {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
}

/**
 * A render tree: the parts of a function body the renderer may rewrite
 * (render.ts), with their source positions (start without trivia, end) in
 * the file's text. Nodes the renderer never looks at are left out; their
 * interesting descendants hang from the nearest kept ancestor. A node in a
 * slot (an `if`'s condition and arms, an operand, a return's value) is always
 * kept, as `x` when it is nothing the renderer knows.
 */
export interface RNode {
  readonly k: RKind;
  readonly s: number;
  readonly e: number;
  /** Children: `if` [cond, then, else?]; `and`/`or` [left, right]; `eq` (a parameter compared with a literal) [left, right]; `cond` [test, whenTrue, whenFalse]; `paren`/`not` [operand]; `ret` [value?]; others: kept descendants. */
  readonly c?: readonly RNode[];
  /** if: its parent is a block or the file (an unwrapped arm may stand in its place). */
  readonly inBlock?: boolean;
  /** if: its column, for re-indenting an unwrapped arm. */
  readonly pad?: number;
  /** block: some statement declares a name (the block must stay a scope). */
  readonly decl?: boolean;
  /** block: number of statements. */
  readonly n?: number;
  /** param: the key, when the one argument is a string literal. */
  readonly key?: string;
  /** param: not exactly one string literal argument. */
  readonly bad?: boolean;
  /** param: the type argument's text. */
  readonly ty?: string;
  /** param, ret: `file:line:column`, for errors. */
  readonly w?: string;
  /** ret: inside a function nested in the rendered one. */
  readonly nested?: boolean;
  /** ret: the rendered function's last statement. */
  readonly last?: boolean;
  /** s: a shorthand property (`{ s }`). */
  readonly sh?: boolean;
  /** eq: the operator is `!==` or `!=`. */
  readonly neg?: boolean;
  /** lit: the literal's value. */
  readonly v?: string | number;
}

export type RKind = "x" | "if" | "and" | "or" | "eq" | "lit" | "cond" | "param" | "ret" | "s" | "await" | "fn" | "paren" | "not" | "block" | "true" | "false";

export interface ParamModel {
  readonly name: string;
  readonly type?: string;
  readonly optional: boolean;
}

/** A library function (hook, kernel method): its signature, body tree and the names it references. */
export interface FnModel {
  readonly name: string;
  readonly isAsync: boolean;
  readonly params: readonly ParamModel[];
  readonly returnType?: string;
  /** The body block. */
  readonly body: RNode;
  /** Names the whole function references (signature included). */
  readonly refs: readonly string[];
  /** Names the body references. */
  readonly bodyRefs: readonly string[];
  /** The body uses its state parameter `s`. */
  readonly usesS: boolean;
  /** The function itself (not a nested one) has a `return`. */
  readonly hasReturn: boolean;
}

export interface InitStatement {
  readonly node: RNode;
  readonly refs: readonly string[];
  /** `s.f = e;` with `e` needing neither `s` nor `host`: may become field `f`'s initialiser. */
  readonly lift?: { readonly field: string; readonly value: RNode };
}

/** A block file (or kernel.ts's own state): fields, init, hooks. */
export interface BlockModel {
  /** Relative to the blocks dir, `/`-separated: "log/det-sync.ts". */
  readonly path: string;
  readonly fields: readonly FieldSpec[];
  /** Names `interface Fields` references; absent without the interface. */
  readonly fieldsRefs?: readonly string[];
  readonly init?: { readonly statements: readonly InitStatement[] };
  /** Hook functions by hook name. */
  readonly hooks: Readonly<Record<string, FnModel>>;
  /** The manifest's one-line `purpose` (blocks/manifest.ts); the rest of the manifest is not code and is never emitted. */
  readonly purpose?: string;
}

export interface KernelModel {
  /** The file with the Protocol methods (kernel.ts or protocol.ts). */
  readonly path: string;
  /** SPI method implementations by name. */
  readonly methods: Readonly<Record<string, FnModel>>;
}

export interface ImportModel {
  readonly local: string;
  readonly original: string;
  readonly module: string;
  readonly typeOnly: boolean;
}

/** A top-level declaration, as the dependency closure copies it. */
export interface StatementModel {
  readonly names: readonly string[];
  readonly pos: number;
  /** Its text with its own doc comment, without `export` (copies are module-private in generated code). */
  readonly text: string;
  readonly refs: readonly string[];
  /** An exported function declaration. */
  readonly exportedFunction: boolean;
}

export interface FileModel {
  readonly path: string;
  readonly text: string;
  readonly imports: readonly ImportModel[];
  /** Local names of namespace and default imports (outside the contract). */
  readonly otherImports: readonly string[];
  /** Declarations, in file order. */
  readonly statements: readonly StatementModel[];
}

export interface LibraryModel {
  readonly hooks: readonly HookSpec[];
  /** Names each `interface Hooks` method references. */
  readonly hookRefs: Readonly<Record<string, readonly string[]>>;
  readonly kernel: KernelModel;
  /** kernel.ts's own Fields and init (the host), when it declares them: emitted before every block's. */
  readonly kernelState?: BlockModel;
  readonly files: Readonly<Record<string, FileModel>>;
  /** Every file that may be selected as a block, or why it cannot be (a contract violation, reported when selected). */
  readonly blocks: Readonly<Record<string, BlockModel | { readonly error: string }>>;
}
