//! What the report says about the machine's CPUs: how many are online, beside
//! how many the load generator may use.
//!
//! On a small machine the load generator takes CPU from the authorizer it
//! measures, and more from a faster one. Pinning them apart (`taskset`) is the
//! usual remedy; the report records whether that was done, so two reports are
//! only compared like for like.

/// Logical CPUs online (Linux `/sys/devices/system/cpu/online`), or `None`
/// where that file is missing or unreadable.
pub(crate) fn online_cpus() -> Option<usize> {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|list| count_cpu_list(&list))
}

/// Counts a kernel CPU list such as `0-3,8,10-11`; `None` if malformed.
fn count_cpu_list(list: &str) -> Option<usize> {
    let mut count = 0usize;
    for part in list.trim().split(',') {
        let (first, last) = match part.split_once('-') {
            Some((first, last)) => (first.parse::<usize>().ok()?, last.parse::<usize>().ok()?),
            None => {
                let cpu = part.parse::<usize>().ok()?;
                (cpu, cpu)
            }
        };
        count = count.checked_add(last.checked_sub(first)?.checked_add(1)?)?;
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::count_cpu_list;

    #[test]
    fn counts_kernel_cpu_lists() {
        assert_eq!(count_cpu_list("0-1\n"), Some(2));
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(count_cpu_list("3-1"), None);
        assert_eq!(count_cpu_list(""), None);
        assert_eq!(count_cpu_list("0-x"), None);
    }
}
