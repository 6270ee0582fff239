/**
 * `@egida/runtime-core/protocol-lib`: the helpers of egida-gen's block
 * library that specialization does not change (they read no protocol
 * parameter), imported by every generated protocol package instead of copied
 * into it: the packed retransmission buffer, a channel's hold-back store, the
 * packed optimistic history, a received piggyback as words, and causal
 * logging's determinant tables with the stability rules over them, the codec of
 * a checkpoint's protocol state, and the warm buffers checkpoints reuse. Code
 * egida-gen specializes (hook bodies with parameters as literals) and the
 * helpers that frame control messages with the block library's tags stay in
 * the generated module.
 */
export { newOutLog, outAt, outDrop, outPack, outPackAppend, outPush, outUnpack, type OutLog, type OutMsg, type OutPack } from "./out-log.js";
export type { InMsg } from "./in-msg.js";
export { Held } from "./held.js";
export { histAt, histDropPrefix, histFrom, histPb, histPush, histSsn, histTs, newOptHist, type OptHist } from "./hist.js";
export { wordsOf } from "./words.js";
export { decodeState, encodeState } from "./state-codec.js";
export { releaseWarm, takeWarm, warmFreeBytes, WARM_MIN } from "./warm.js";
export {
  CAUSAL_DM_FULL,
  CAUSAL_SM_FULL,
  causalAdd,
  causalAddRead,
  causalGc,
  causalPutRead,
  causalQTrim,
  causalReadStable,
  causalReadValue,
  causalReadWords,
  causalReadsFlushed,
  causalSameBytes,
  causalScanPb,
  causalSmAdvance,
  causalSmStable,
  causalStable,
  causalSvAdvance,
  DetTable,
  type CausalLog,
  type CDet,
  type CRead,
  type DetLogTables,
} from "./causal-log.js";
