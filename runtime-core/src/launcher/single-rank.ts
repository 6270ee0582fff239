import type { SingleRankOptions } from "./options.js";
export async function runSingleRank(o: SingleRankOptions): Promise<number> {
  void o;
  throw new Error("single-rank mode: not yet");
}
