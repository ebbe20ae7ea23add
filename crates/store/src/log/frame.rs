//! The byte layout of segment files and frames (`docs/format.md` §3).
//!
//! ```text
//! segment  = header frame*
//! header   = "ALOGSEG1" base_offset:u64le                      (16 bytes)
//! frame    = len:u32le crc:u32le offset:u64le kind:u8 payload  (17 + len bytes)
//! crc      = CRC-32C over offset:u64le, kind:u8 and payload
//! ```

/// Magic at the start of every segment file; the trailing `1` is the format version.
pub const SEGMENT_MAGIC: &[u8; 8] = b"ALOGSEG1";
/// Bytes in a segment header.
pub const HEADER_LEN: usize = 16;
/// Bytes in a frame header.
pub const FRAME_HEADER_LEN: usize = 17;
/// Largest payload a frame may carry (the server enforces a smaller record limit).
pub const MAX_PAYLOAD: usize = 64 << 20;

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// A record's canonical bytes.
    Record = 1,
}

impl FrameKind {
    pub fn from_u8(b: u8) -> Option<FrameKind> {
        match b {
            1 => Some(FrameKind::Record),
            _ => None,
        }
    }
}

/// Encode a segment header.
pub fn encode_header(base_offset: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    let (magic, base) = h.split_at_mut(8);
    magic.copy_from_slice(SEGMENT_MAGIC);
    base.copy_from_slice(&base_offset.to_le_bytes());
    h
}

/// Decode a segment header, returning its base offset.
pub fn decode_header(b: &[u8]) -> Option<u64> {
    let magic = b.get(..8)?;
    if magic != SEGMENT_MAGIC {
        return None;
    }
    Some(u64::from_le_bytes(b.get(8..16)?.try_into().ok()?))
}

fn crc(offset: u64, kind: u8, payload: &[u8]) -> u32 {
    let c = crc32c::crc32c_append(0, &offset.to_le_bytes());
    let c = crc32c::crc32c_append(c, &[kind]);
    crc32c::crc32c_append(c, payload)
}

/// Append one frame to `out`.
pub fn encode_frame(out: &mut Vec<u8>, offset: u64, kind: FrameKind, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc(offset, kind as u8, payload).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.push(kind as u8);
    out.extend_from_slice(payload);
}

/// Why the bytes at a position are not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer bytes than the header or the payload needs (a torn write at the tail).
    Short,
    /// The length is larger than any frame may be.
    BadLength,
    /// The checksum does not match.
    BadChecksum,
    /// The kind byte is unknown.
    BadKind,
}

/// A decoded frame header and where its payload is.
#[derive(Debug, Clone, Copy)]
pub struct FrameInfo {
    pub offset: u64,
    pub kind: FrameKind,
    /// Payload length.
    pub len: usize,
    /// Total bytes the frame occupies.
    pub total: usize,
}

/// Decode and verify the frame at the start of `b`.
pub fn decode_frame(b: &[u8]) -> Result<(FrameInfo, &[u8]), FrameError> {
    let (raw, payload) = decode_frame_raw(b)?;
    if !raw.crc_ok {
        return Err(FrameError::BadChecksum);
    }
    let kind = FrameKind::from_u8(raw.kind).ok_or(FrameError::BadKind)?;
    Ok((
        FrameInfo {
            offset: raw.offset,
            kind,
            len: payload.len(),
            total: raw.total,
        },
        payload,
    ))
}

/// A frame read without trusting its checksum, for `verify`: a tampered
/// frame is evidence, and its payload is still what must be hashed and
/// compared with the Merkle tree.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame {
    /// The offset the frame's header claims.
    pub offset: u64,
    /// The kind byte, known or not.
    pub kind: u8,
    /// Whether the CRC-32C matches.
    pub crc_ok: bool,
    /// Total bytes the frame occupies.
    pub total: usize,
}

/// Decode the frame at the start of `b` without rejecting a bad checksum or
/// kind. Only a frame whose extent cannot be known (cut short, impossible
/// length) is an error.
pub fn decode_frame_raw(b: &[u8]) -> Result<(RawFrame, &[u8]), FrameError> {
    let head = b.get(..FRAME_HEADER_LEN).ok_or(FrameError::Short)?;
    let le32 = |r: std::ops::Range<usize>| {
        head.get(r)
            .and_then(|s| s.try_into().ok())
            .map(u32::from_le_bytes)
    };
    let len = le32(0..4).ok_or(FrameError::Short)? as usize;
    let sum = le32(4..8).ok_or(FrameError::Short)?;
    let offset = head
        .get(8..16)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or(FrameError::Short)?;
    let kind = head.get(16).copied().ok_or(FrameError::Short)?;
    if len > MAX_PAYLOAD {
        return Err(FrameError::BadLength);
    }
    let payload = b
        .get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len)
        .ok_or(FrameError::Short)?;
    Ok((
        RawFrame {
            offset,
            kind,
            crc_ok: crc(offset, kind, payload) == sum,
            total: FRAME_HEADER_LEN + len,
        },
        payload,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_detection() {
        let mut b = Vec::new();
        encode_frame(&mut b, 42, FrameKind::Record, b"{\"a\":1}");
        let (info, payload) = decode_frame(&b).unwrap();
        assert_eq!(
            (info.offset, info.len, info.total, payload),
            (42, 7, 24, &b"{\"a\":1}"[..])
        );
        for cut in 0..b.len() {
            assert_eq!(
                decode_frame(&b[..cut]).unwrap_err(),
                FrameError::Short,
                "cut at {cut}"
            );
        }
        for i in 4..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 0x40;
            assert!(decode_frame(&bad).is_err(), "flip at {i} undetected");
        }
        assert_eq!(decode_header(&encode_header(7)), Some(7));
        assert_eq!(decode_header(b"ALOGSEG2\0\0\0\0\0\0\0\0"), None);
    }

    /// The layout is part of the on-disk format: pin it.
    #[test]
    fn known_bytes() {
        let mut b = Vec::new();
        encode_frame(&mut b, 1, FrameKind::Record, b"{}");
        assert_eq!(&b[..4], &[2, 0, 0, 0]);
        assert_eq!(&b[8..17], &[1, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(&b[17..], b"{}");
        let c = crc32c::crc32c(&[1, 0, 0, 0, 0, 0, 0, 0, 1, b'{', b'}']);
        assert_eq!(&b[4..8], &c.to_le_bytes());
    }
}
