export { TcpTransport, createTcpTransport } from "./tcp.js";
export type { PeerAddress, TcpLogLevel, TcpTransportOptions, TcpTransportStats, TlsMaterial } from "./tcp.js";
export { FrameDecoder } from "./frame-decoder.js";
export { countBytes, encodeFrame, FrameError, DEFAULT_MAX_FRAME_BYTES, HEADER_BYTES, TRAILER_BYTES, WireKind, type WireFrame } from "./frame.js";
export { handshakeMac, verifyMac, newNonce, type HandshakeParties } from "./handshake.js";
export { nodeNet, realClock, type NetLayer, type TransportClock, type WireServer, type WireSocket } from "./io.js";
