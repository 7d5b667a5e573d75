//! When a binary of the e2e image stops: at SIGTERM, what the kubelet sends
//! a pod's PID 1 on deletion (PID 1 gets no default handler, so an unhandled
//! SIGTERM is ignored and the pod waits out its grace period to be killed),
//! or at Ctrl-C when run by hand.

use std::future::Future;

/// Registers the handlers now (inside a Tokio runtime, so a failure is an
/// error at start rather than a server that never stops); the future
/// completes at the first SIGTERM or Ctrl-C.
pub(crate) fn terminated() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        let interrupt = tokio::signal::ctrl_c();
        Ok(async move {
            let _ = interrupt.await;
        })
    }
}
