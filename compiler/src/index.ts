export type * from "./ir/types.js";
