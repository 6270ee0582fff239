/**
 * `zlib.crc32(data, previous)` that survives an empty `data`.
 *
 * Node's zlib.crc32 returns 0, not `previous`, when `data` is a view of a
 * zero-length ArrayBuffer (for example `new Uint8Array(0)`): zlib sees a null
 * buffer pointer and restarts. A frame with an empty payload then carried a
 * CRC of 0 and every receiver dropped the connection, and a log record with
 * empty data was written with a CRC that its own reader rejects. Every CRC
 * computed in pieces goes through here.
 */
import { crc32 } from "node:zlib";

export function crc32Extend(data: Uint8Array, previous: number): number {
  return data.byteLength === 0 ? previous : crc32(data, previous);
}
