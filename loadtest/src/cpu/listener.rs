//! Which local processes listen on a loopback port: the sockets in LISTEN state
//! in `/proc/net/tcp` and `/proc/net/tcp6` give their inodes, and the processes
//! whose `/proc/PID/fd` links to one of them hold it. Several processes may
//! (a master and its workers, say); their CPU is summed.
//!
//! Processes of other users are seen only by root: an unprivileged run finds
//! fewer, and the operator passes `--target-pid` instead.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The `st` column's value for a listening socket.
const TCP_LISTEN: &str = "0A";

/// Ids of the processes listening where `target` connects, ascending (empty if
/// none was found or `/proc` could not be read).
pub(crate) fn pids_listening_on(target: SocketAddr) -> Vec<u32> {
    let mut inodes = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            inodes.extend(listening_inodes(&text, target));
        }
    }
    if inodes.is_empty() {
        return Vec::new();
    }
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for process in processes.flatten() {
        let Some(pid) = process.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // A process may exit, or be another user's, while it is looked at.
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .ok()
                .and_then(|link| socket_inode(link.to_str()?))
                .is_some_and(|inode| inodes.contains(&inode))
        });
        if holds {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    pids
}

/// The inode of an fd link such as `socket:[123456]`.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Inodes of the sockets in a `/proc/net/tcp` or `tcp6` table that listen
/// where a connection to `target` lands: its port, on its address or on the
/// unspecified one (`0.0.0.0`, `::`; a `::` socket takes IPv4 too).
fn listening_inodes(table: &str, target: SocketAddr) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
            if *state != TCP_LISTEN {
                return None;
            }
            let (ip, port) = local.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let ip = kernel_ip(ip)?;
            // `0.0.0.0` takes IPv4 only; `::` takes both.
            let any = ip.is_unspecified() && (ip.is_ipv6() || target.is_ipv4());
            let lands = port == target.port()
                && (any || ip == target.ip() || mapped(ip) == Some(target.ip()));
            if !lands {
                return None;
            }
            inode.parse().ok()
        })
        .collect()
}

/// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) stands for.
fn mapped(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
        IpAddr::V4(_) => None,
    }
}

/// An address as the kernel prints it there: 32-bit words in hex, each in the
/// machine's byte order (8 digits for IPv4, 32 for IPv6).
fn kernel_ip(hex: &str) -> Option<IpAddr> {
    let word = |i: usize| -> Option<[u8; 4]> {
        let digits = hex.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(digits, 16).ok()?.to_ne_bytes())
    };
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(0)?))),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ip` as the kernel prints it on this machine.
    fn v4_hex(ip: Ipv4Addr) -> String {
        format!("{:08X}", u32::from_ne_bytes(ip.octets()))
    }

    fn v6_hex(ip: Ipv6Addr) -> String {
        ip.octets()
            .chunks(4)
            .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
            .collect()
    }

    fn table(rows: &[(String, u16, &str, u64)]) -> String {
        let mut text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n".to_owned();
        for (i, (ip, port, state, inode)) in rows.iter().enumerate() {
            text.push_str(&format!(
                "   {i}: {ip}:{port:04X} 00000000:0000 {state} 00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0\n"
            ));
        }
        text
    }

    #[test]
    fn finds_listeners_on_the_address_or_on_any() {
        let target: SocketAddr = "127.0.0.1:9090".parse().expect("an address");
        let text = table(&[
            (v4_hex(Ipv4Addr::LOCALHOST), 9090, "0A", 11),
            (v4_hex(Ipv4Addr::UNSPECIFIED), 9090, "0A", 12),
            (v4_hex(Ipv4Addr::LOCALHOST), 9091, "0A", 13),
            (v4_hex(Ipv4Addr::new(127, 0, 0, 2)), 9090, "0A", 14),
            // An established connection to the port, not a listener.
            (v4_hex(Ipv4Addr::LOCALHOST), 9090, "01", 15),
        ]);
        assert_eq!(listening_inodes(&text, target), [11, 12]);
        let target6: SocketAddr = "[::1]:9090".parse().expect("an address");
        assert!(listening_inodes(&text, target6).is_empty());
        let v6 = table(&[
            (v6_hex(Ipv6Addr::UNSPECIFIED), 9090, "0A", 21),
            (v6_hex(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 9090, "0A", 22),
            (v6_hex(Ipv6Addr::LOCALHOST), 9090, "0A", 23),
        ]);
        assert_eq!(listening_inodes(&v6, target), [21, 22]);
        assert_eq!(listening_inodes(&v6, target6), [21, 23]);
    }

    #[test]
    fn reads_the_kernels_address_words() {
        // 127.0.0.1 on a little-endian machine, as in every x86 /proc/net/tcp.
        if cfg!(target_endian = "little") {
            assert_eq!(kernel_ip("0100007F"), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            assert_eq!(
                kernel_ip("00000000000000000000000001000000"),
                Some(IpAddr::V6(Ipv6Addr::LOCALHOST))
            );
        }
        assert_eq!(kernel_ip("0100007"), None);
        assert_eq!(kernel_ip("0100007G"), None);
        assert_eq!(socket_inode("socket:[4242]"), Some(4242));
        assert_eq!(socket_inode("pipe:[4242]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn finds_this_process_listening() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let addr = listener.local_addr().expect("its address");
        assert!(
            pids_listening_on(addr).contains(&std::process::id()),
            "{addr}"
        );
    }
}
