//! Which addresses `send` connects to: every A/AAAA record of every `--to` host, less this
//! machine's own with `--exclude-self`, and at most `--max-connections` of them at once, a
//! window that moves on every DNS period so that each address gets its turn.
//!
//! The choices are pure functions of what was resolved; looking names up (the system
//! resolver) and acting on the choice (connecting, closing) is [`super::sender`]'s job.

use std::net::{IpAddr, SocketAddr};

/// What [`exclude_self`] kept and left out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Chosen {
    /// The addresses to send to, each with the index of its target, in the order given; an
    /// address that two targets share comes once, with the first.
    pub wanted: Vec<(usize, SocketAddr)>,
    /// The addresses that are this machine's, with the index of their target.
    pub excluded: Vec<(usize, SocketAddr)>,
}

/// Keeps the addresses of each target (`resolved[t]` for `targets[t]`) that are not in `own`
/// (this machine's, for `--exclude-self`; empty without it).
pub fn exclude_self(resolved: &[Vec<SocketAddr>], own: &[IpAddr]) -> Chosen {
    let mut chosen = Chosen::default();
    for (t, addrs) in resolved.iter().enumerate() {
        for &addr in addrs {
            if own.contains(&addr.ip()) {
                chosen.excluded.push((t, addr));
            } else if !chosen.wanted.iter().any(|(_, a)| *a == addr) {
                chosen.wanted.push((t, addr));
            }
        }
    }
    chosen
}

/// The `--max-connections` window: which of `len` destinations are connected at once.
#[derive(Clone, Debug, Default)]
pub struct Rotation {
    next: usize,
}

impl Rotation {
    /// The positions (below `len`) of the destinations to use until the next call: all of
    /// them when `cap` is 0 or not below `len`, else `cap` in a row (wrapping round), starting
    /// where the previous window ended.
    pub fn window(&mut self, len: usize, cap: usize) -> Vec<usize> {
        if cap == 0 || len <= cap {
            return (0..len).collect();
        }
        let start = self.next % len;
        self.next += cap;
        (0..cap).map(|k| (start + k) % len).collect()
    }
}

/// This machine's addresses, for `--exclude-self` (none when the OS does not say).
pub fn local_addresses() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|interfaces| interfaces.iter().map(if_addrs::Interface::ip).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn exclude_self_leaves_out_this_machines_addresses_only() {
        let resolved = [
            addrs(&["127.0.0.1:514", "192.0.2.1:514"]),
            addrs(&["[::1]:514", "192.0.2.2:514"]),
        ];
        let own = [IpAddr::from([127, 0, 0, 1]), "::1".parse().unwrap()];
        let chosen = exclude_self(&resolved, &own);
        assert_eq!(
            chosen.wanted,
            vec![(0, resolved[0][1]), (1, resolved[1][1])]
        );
        assert_eq!(
            chosen.excluded,
            vec![(0, resolved[0][0]), (1, resolved[1][0])]
        );
    }

    #[test]
    fn without_exclude_self_every_address_is_kept_once() {
        let resolved = [
            addrs(&["192.0.2.1:514", "192.0.2.1:514"]),
            addrs(&["192.0.2.1:514", "192.0.2.1:6514"]),
        ];
        let chosen = exclude_self(&resolved, &[]);
        assert_eq!(
            chosen.wanted,
            vec![(0, resolved[0][0]), (1, resolved[1][1])]
        );
        assert!(chosen.excluded.is_empty());
    }

    #[test]
    fn a_host_that_is_only_this_machine_leaves_nothing() {
        let resolved = [addrs(&["127.0.0.1:514"])];
        let chosen = exclude_self(&resolved, &[IpAddr::from([127, 0, 0, 1])]);
        assert!(chosen.wanted.is_empty());
        assert_eq!(chosen.excluded.len(), 1);
    }

    #[test]
    fn max_connections_rotation_picks_a_moving_window() {
        let mut rotation = Rotation::default();
        assert_eq!(rotation.window(5, 2), vec![0, 1]);
        assert_eq!(rotation.window(5, 2), vec![2, 3]);
        assert_eq!(rotation.window(5, 2), vec![4, 0]);
        assert_eq!(rotation.window(5, 2), vec![1, 2]);
        // Over len/gcd(len, cap) periods every destination had the same number of turns.
        let mut turns = [0; 5];
        for _ in 0..5 {
            for i in rotation.window(5, 2) {
                turns[i] += 1;
            }
        }
        assert_eq!(turns, [2; 5]);
    }

    #[test]
    fn no_cap_or_a_cap_above_the_count_uses_every_destination() {
        let mut rotation = Rotation::default();
        assert_eq!(rotation.window(3, 0), vec![0, 1, 2]);
        assert_eq!(rotation.window(3, 3), vec![0, 1, 2]);
        assert_eq!(rotation.window(3, 8), vec![0, 1, 2]);
        // ... and does not move the window.
        assert_eq!(rotation.window(3, 1), vec![0]);
    }

    #[test]
    fn this_machine_has_a_loopback_address() {
        assert!(local_addresses().contains(&IpAddr::from([127, 0, 0, 1])));
    }
}
