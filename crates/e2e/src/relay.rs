//! A TCP relay the test owns: listens on one address and forwards each connection to a
//! target. `cut` turns it into a black hole, like a partition: bytes stop flowing both ways,
//! but no connection is closed or refused, so the peers see silence, not an error.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Relay {
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
    /// Every socket it holds, shut down when the relay is dropped.
    sockets: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// Listens on `listen` and forwards to `target`.
    pub fn start(listen: SocketAddr, target: SocketAddr) -> Relay {
        let listener = TcpListener::bind(listen).unwrap_or_else(|e| panic!("bind {listen}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let relay = Relay {
            addr: listener.local_addr().unwrap(),
            cut: Arc::default(),
            stopped: Arc::default(),
            sockets: Arc::default(),
        };
        let (cut, stopped, sockets) = (
            relay.cut.clone(),
            relay.stopped.clone(),
            relay.sockets.clone(),
        );
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        keep(&sockets, &client);
                        // After the cut a new connection is accepted and then ignored.
                        if !cut.load(Ordering::SeqCst) {
                            connect(client, target, &cut, &sockets);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        relay
    }

    /// From now on nothing passes, in either direction, on old or new connections.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }
}

fn keep(sockets: &Mutex<Vec<TcpStream>>, socket: &TcpStream) {
    if let Ok(clone) = socket.try_clone() {
        sockets.lock().unwrap().push(clone);
    }
}

fn connect(
    client: TcpStream,
    target: SocketAddr,
    cut: &Arc<AtomicBool>,
    sockets: &Mutex<Vec<TcpStream>>,
) {
    client.set_nonblocking(false).unwrap();
    let Ok(server) = TcpStream::connect(target) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    keep(sockets, &server);
    let (Ok(client_in), Ok(server_in)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    pump(client_in, server, cut.clone());
    pump(server_in, client, cut.clone());
}

/// Copies `from` to `to` until either ends; after the cut, whatever arrives is dropped.
fn pump(mut from: TcpStream, mut to: TcpStream, cut: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if cut.load(Ordering::SeqCst) {
                continue;
            }
            if to.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        if !cut.load(Ordering::SeqCst) {
            let _ = to.shutdown(Shutdown::Write);
        }
    });
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        for socket in self.sockets.lock().unwrap().drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}
