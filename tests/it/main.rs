//! CLI tests: one integration binary, one module per command.

mod util;

mod rulegen;
