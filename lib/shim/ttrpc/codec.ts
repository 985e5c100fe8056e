import { newError } from '../../errors/index.js';

// ttrpc framing (containerd/ttrpc PROTOCOL.md): a 10-byte header — data length (uint32 BE), stream id
// (uint32 BE), message type (1 byte), flags (1 byte) — then `length` bytes of protobuf.

/** Size of a frame header in bytes. */
export const FRAME_HEADER_SIZE = 10;

/** The protocol's limit on a frame's data: 4 MiB. Larger frames are refused on send and discarded on receipt. */
export const MAX_MESSAGE_SIZE = 4 << 20;

/** ttrpc frame types. */
export const FrameType = {
  /** A call: `ttrpc.Request`. */
  Request: 1,
  /** The answer to a call: `ttrpc.Response`. */
  Response: 2,
  /** Streaming data (not used by unary calls). */
  Data: 3,
} as const;

/** One of {@link FrameType}'s values. */
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** ttrpc frame flags. Unary requests carry none. */
export const FrameFlags = {
  /** The sender will send nothing more on this stream. */
  RemoteClosed: 0x01,
  /** The sender keeps the stream open (streaming request). */
  RemoteOpen: 0x02,
  /** The frame carries no data. */
  NoData: 0x04,
} as const;

/** A frame's header fields. */
export interface FrameHeader {
  /** Length of the data after the header. */
  length: number;
  streamId: number;
  type: number;
  flags: number;
}

/** A whole frame: header fields and its data. */
export interface Frame {
  streamId: number;
  type: number;
  flags: number;
  data: Uint8Array;
}

/**
 * Encodes one frame (header and data in one buffer, so a single socket write carries it whole).
 *
 * @throws ERR_TTRPC_MESSAGE_TOO_LARGE when `data` exceeds {@link MAX_MESSAGE_SIZE} (`details.direction = 'send'`).
 * @throws ERR_INVALID_ARGUMENT for a stream id, type or flags out of their ranges.
 */
export function encodeFrame(frame: Frame): Buffer {
  const { streamId, type, flags, data } = frame;
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffffffff) {
    throw newError('ERR_INVALID_ARGUMENT', `frame stream id ${streamId} is not a uint32`);
  }
  if (!Number.isInteger(type) || type < 0 || type > 0xff || !Number.isInteger(flags) || flags < 0 || flags > 0xff) {
    throw newError('ERR_INVALID_ARGUMENT', 'frame type and flags must each fit in one byte');
  }
  if (data.length > MAX_MESSAGE_SIZE) {
    throw newError('ERR_TTRPC_MESSAGE_TOO_LARGE', `message of ${data.length} bytes exceeds the ttrpc limit of ${MAX_MESSAGE_SIZE} bytes`, {
      details: { direction: 'send', length: data.length, limit: MAX_MESSAGE_SIZE },
    });
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + data.length);
  out.writeUInt32BE(data.length, 0);
  out.writeUInt32BE(streamId, 4);
  out[8] = type;
  out[9] = flags;
  out.set(data, FRAME_HEADER_SIZE);
  return out;
}

/** Reads the header at `offset` of `buf` (which must hold at least 10 bytes from there). */
export function decodeFrameHeader(buf: Uint8Array, offset = 0): FrameHeader {
  if (buf.length - offset < FRAME_HEADER_SIZE) throw newError('ERR_INVALID_ARGUMENT', 'a frame header needs 10 bytes');
  const view = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_HEADER_SIZE);
  return { length: view.getUint32(0), streamId: view.getUint32(4), type: view.getUint8(8), flags: view.getUint8(9) };
}

/** What {@link FrameDecoder.push} yields: a whole frame, or notice of an oversized one whose data was skipped. */
export type DecodedFrame = { kind: 'frame'; frame: Frame } | { kind: 'oversized'; header: FrameHeader };

/**
 * Cuts a byte stream into frames. It holds at most one frame's worth of bytes (header + `maxMessageSize`, plus the
 * rest of the chunk being cut): the data of an oversized frame is counted and dropped as it arrives, never
 * buffered, and reported once as `oversized` so the caller can fail that stream alone (the connection stays in sync).
 */
export class FrameDecoder {
  readonly #maxMessageSize: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes of an oversized frame still to drop. */
  #skip = 0;
  /** The header of the frame whose data is still arriving. */
  #header: FrameHeader | undefined;

  /**
   * @param maxMessageSize largest frame data accepted, in bytes; larger frames are reported `oversized`. Default
   *   (and upper bound) {@link MAX_MESSAGE_SIZE}.
   */
  constructor(maxMessageSize: number = MAX_MESSAGE_SIZE) {
    if (!Number.isInteger(maxMessageSize) || maxMessageSize < 0 || maxMessageSize > MAX_MESSAGE_SIZE) {
      throw newError('ERR_INVALID_ARGUMENT', `maxMessageSize must be an integer between 0 and ${MAX_MESSAGE_SIZE}`);
    }
    this.#maxMessageSize = maxMessageSize;
  }

  /** Bytes held, waiting for the rest of a frame (a header already read is not counted). */
  get buffered(): number {
    return this.#buffered;
  }

  /** Feeds bytes in; returns every frame completed by them, in order. */
  push(chunk: Uint8Array): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    let input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, input.length);
      this.#skip -= n;
      input = input.subarray(n);
    }
    if (input.length > 0) {
      this.#chunks.push(input);
      this.#buffered += input.length;
    }
    for (;;) {
      if (this.#header === undefined) {
        if (this.#buffered < FRAME_HEADER_SIZE) break;
        const header = decodeFrameHeader(this.#take(FRAME_HEADER_SIZE));
        if (header.length > this.#maxMessageSize) {
          const n = Math.min(header.length, this.#buffered);
          this.#take(n);
          this.#skip = header.length - n;
          out.push({ kind: 'oversized', header });
          if (this.#skip > 0) break;
          continue;
        }
        this.#header = header;
      }
      const header = this.#header;
      if (this.#buffered < header.length) break;
      this.#header = undefined;
      const data = this.#take(header.length);
      out.push({ kind: 'frame', frame: { streamId: header.streamId, type: header.type, flags: header.flags, data } });
    }
    return out;
  }

  // Consumes and returns the first `n` buffered bytes (a copy when they span chunks).
  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.#chunks[0]!;
        const m = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, m);
        filled += m;
        if (m === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(m);
      }
    }
    this.#buffered -= n;
    return out;
  }
}
