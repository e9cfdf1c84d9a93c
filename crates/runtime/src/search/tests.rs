//! Cross-module encoding tests.
