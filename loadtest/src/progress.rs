//! Progress on stderr while a slice runs: requests, rate and errors so far,
//! refreshed every half second on a terminal, one line per slice otherwise.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::recorder::Recorder;

/// Whether and how to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (tests, `--quiet`).
    Off,
    /// Live on a terminal, a line per slice otherwise.
    On,
}

/// Shows progress of one slice until dropped.
pub(crate) struct Ticker {
    task: Option<tokio::task::JoinHandle<()>>,
    line: Option<Line>,
}

/// What the closing line reports on.
struct Line {
    label: String,
    recorder: Arc<Recorder>,
    start: Instant,
    before: (u64, u64),
}

impl Ticker {
    pub(crate) fn start(mode: Progress, label: String, recorder: Arc<Recorder>) -> Self {
        if mode == Progress::Off {
            return Self {
                task: None,
                line: None,
            };
        }
        let start = Instant::now();
        let before = recorder.counts();
        let live = std::io::stderr().is_terminal();
        let task = live.then(|| {
            let (label, recorder) = (label.clone(), Arc::clone(&recorder));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                loop {
                    tick.tick().await;
                    let text = status(&label, &recorder, start, before);
                    eprint!("\r{text}\x1b[K");
                    let _ = std::io::stderr().flush();
                }
            })
        });
        Self {
            task,
            line: Some(Line {
                label,
                recorder,
                start,
                before,
            }),
        }
    }
}

fn status(label: &str, recorder: &Recorder, start: Instant, before: (u64, u64)) -> String {
    let (done, failed) = recorder.counts();
    let (done, failed) = (done - before.0, failed - before.1);
    let secs = start.elapsed().as_secs_f64();
    format!(
        "  {label:<28} {secs:5.1} s {done:>9} req {:>9.0} req/s  errors {failed}",
        done as f64 / secs.max(1e-9)
    )
}

impl Drop for Ticker {
    fn drop(&mut self) {
        let live = self.task.is_some();
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(line) = self.line.take() {
            let text = status(&line.label, &line.recorder, line.start, line.before);
            if live {
                eprintln!("\r{text}\x1b[K");
            } else {
                eprintln!("{text}");
            }
        }
    }
}
