//! Lossless JSON: the value type, a strict parser and the canonical writer.

mod parse;
mod value;
mod write;

pub use parse::{
    parse, parse_noting_canonical, parse_stream, parse_with, Limits, ParseError, ParseErrorKind,
    StreamItem,
};
pub use value::{Json, Number, Object};
pub use write::{
    cmp_utf16, to_canonical, to_canonical_sized, to_pretty, write_canonical, write_string,
};
