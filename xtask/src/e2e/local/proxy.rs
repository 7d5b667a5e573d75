//! The Service: a loopback TCP proxy on the Service's port, round-robin over
//! the ready replicas' resolved target listeners.

use std::io::copy;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Listens on `addr`; fails when it is taken.
    pub(crate) fn start(addr: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let backends: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (Arc::clone(&backends), Arc::clone(&stop));
        std::thread::spawn(move || {
            let next = AtomicUsize::new(0);
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                let backend = b.lock().ok().and_then(|list| {
                    (!list.is_empty())
                        .then(|| list[next.fetch_add(1, Ordering::SeqCst) % list.len()])
                });
                if let Some(backend) = backend {
                    std::thread::spawn(move || pipe(client, backend));
                }
            }
        });
        Ok(Self {
            addr,
            backends,
            stop,
        })
    }

    /// Routes new connections to `backend` too.
    pub(crate) fn add(&self, backend: SocketAddr) {
        if let Ok(mut b) = self.backends.lock() {
            b.push(backend);
        }
    }

    /// Stops routing new connections to `backend` (open ones finish).
    pub(crate) fn remove(&self, backend: SocketAddr) {
        if let Ok(mut b) = self.backends.lock() {
            b.retain(|a| *a != backend);
        }
    }

    /// The backends now routed to.
    pub(crate) fn backends(&self) -> Vec<SocketAddr> {
        self.backends.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

fn pipe(client: TcpStream, backend: SocketAddr) {
    let Ok(server) = TcpStream::connect_timeout(&backend, Duration::from_secs(5)) else {
        return;
    };
    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = copy(&mut c2, &mut s2);
        let _ = s2.shutdown(Shutdown::Write);
    });
    let (mut s, mut c) = (server, client);
    let _ = copy(&mut s, &mut c);
    let _ = c.shutdown(Shutdown::Write);
    let _ = up.join();
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}
