//! Live reading placeholder (filled in below).
