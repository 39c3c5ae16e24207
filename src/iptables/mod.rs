//! netfilter: the LOG lines iptables and nftables write, and the rules that make them.

pub mod rulegen;
