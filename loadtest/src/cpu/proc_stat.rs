//! CPU time from `/proc/PID/stat` (and `/proc/self/task/TID/stat`, the same
//! format for one thread): user plus system time in clock ticks.
//!
//! The command name, field 2, is in parentheses and may itself hold spaces and
//! parentheses (a thread may call itself `a) (b`), so the fields after it are
//! counted from the *last* `)` in the line, as the kernel writes them.
//!
//! The line is parsed here rather than through `procfs` (which the server's
//! process metrics use): the harness needs two fields of it, for processes and
//! for this process's threads alike, and that is a dozen lines, tested below on
//! the awkward names. Only the tick rate comes from a crate (`rustix`).

use std::path::Path;
use std::time::Duration;

use super::CpuError;

/// What the harness reads from one `stat` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// The command (or thread) name, without its parentheses.
    pub(crate) comm: String,
    /// User time plus system time (fields 14 and 15), in clock ticks; children
    /// it waited for (fields 16 and 17) are not counted.
    pub(crate) ticks: u64,
}

/// Index of `utime` among the fields after the name (field 3, `state`, is 0).
const UTIME_AFTER_COMM: usize = 14 - 3;

/// Parses one `stat` line; `None` if it is not one.
pub(crate) fn parse(line: &str) -> Option<ProcStat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line.get(open + 1..close)?;
    let mut fields = line.get(close + 1..)?.split_ascii_whitespace();
    let utime: u64 = fields.nth(UTIME_AFTER_COMM)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(ProcStat {
        comm: comm.to_owned(),
        ticks: utime.checked_add(stime)?,
    })
}

/// Reads and parses the `stat` file at `path`.
pub(crate) fn read(path: &Path) -> Result<ProcStat, CpuError> {
    let text = std::fs::read_to_string(path).map_err(|source| CpuError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).ok_or_else(|| CpuError::Malformed {
        path: path.to_path_buf(),
    })
}

/// CPU time of process `pid`.
pub(crate) fn process(pid: u32) -> Result<Duration, CpuError> {
    read(Path::new(&format!("/proc/{pid}/stat"))).map(|s| ticks_to_duration(s.ticks))
}

/// CPU time of this process's live threads named `name`, summed. A thread that
/// has exited takes its time with it, so the caller keeps the threads alive
/// (the embedded runtime's blocking threads idle for an hour before exiting).
pub(crate) fn threads_named(name: &str) -> Result<Duration, CpuError> {
    let dir = Path::new("/proc/self/task");
    let entries = std::fs::read_dir(dir).map_err(|source| CpuError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut ticks = 0u64;
    let mut found = false;
    for entry in entries.flatten() {
        // A thread may exit between the listing and the read: skip it.
        let Ok(stat) = read(&entry.path().join("stat")) else {
            continue;
        };
        if stat.comm == name {
            found = true;
            ticks = ticks.saturating_add(stat.ticks);
        }
    }
    if found {
        Ok(ticks_to_duration(ticks))
    } else {
        Err(CpuError::NoThreads(name.to_owned()))
    }
}

/// Clock ticks as time.
fn ticks_to_duration(ticks: u64) -> Duration {
    let hz = clock_ticks_per_second().max(1);
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(hz);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// `sysconf(_SC_CLK_TCK)`, the unit of the `stat` times.
#[cfg(target_os = "linux")]
fn clock_ticks_per_second() -> u64 {
    rustix::param::clock_ticks_per_second()
}

/// Without Linux there is no `/proc/PID/stat` to read; the reads fail first.
#[cfg(not(target_os = "linux"))]
fn clock_ticks_per_second() -> u64 {
    100
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `stat` line with every field up to `cstime`, and a few after.
    fn line(comm: &str, utime: u64, stime: u64) -> String {
        format!(
            "4242 ({comm}) S 1 4242 4242 0 -1 4194560 1201 0 0 0 {utime} {stime} 7 8 20 0 5 0 \
             123456 98765432 2048 18446744073709551615 1 1 0 0 0 0 0 4096 17 1 0 0 0 0 0\n"
        )
    }

    #[test]
    fn reads_user_plus_system_ticks() {
        let stat = parse(&line("tenuo-authorize", 150, 25)).expect("a stat line");
        assert_eq!(stat.comm, "tenuo-authorize");
        assert_eq!(stat.ticks, 175);
    }

    #[test]
    fn a_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        for comm in ["my server", "a) (b", "x (y) z)", ")", "((", ""] {
            let stat = parse(&line(comm, 1000, 1)).unwrap_or_else(|| panic!("{comm:?}"));
            assert_eq!(stat.comm, comm);
            assert_eq!(stat.ticks, 1001, "{comm:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_stat_line() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("4242 no parentheses S 1 2 3"), None);
        assert_eq!(parse("4242 (short) S 1 2 3"), None);
        let text = line("x", 1, 2).replace(" 1 2 7 8 ", " 1 two 7 8 ");
        assert_eq!(parse(&text), None);
        let overflow = line("x", u64::MAX, 1);
        assert_eq!(parse(&overflow), None);
    }

    #[test]
    fn reads_this_process_and_its_named_threads() {
        process(std::process::id()).expect("/proc/PID/stat of this process");
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (started, ready) = std::sync::mpsc::channel::<()>();
        // std names a thread as it starts, before running its closure.
        let probe = std::thread::Builder::new()
            .name("lt-cpu-probe".into())
            .spawn(move || {
                let _ = started.send(());
                let _ = stopped.recv();
            })
            .expect("a thread");
        ready.recv().expect("the probe started");
        threads_named("lt-cpu-probe").expect("the probe thread");
        assert!(matches!(
            threads_named("no-such-thread"),
            Err(CpuError::NoThreads(_))
        ));
        drop(stop);
        probe.join().expect("the probe ends");
    }
}
