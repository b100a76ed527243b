//! A webhook receiver on loopback, as an integration would run one. It records every attempt
//! (including the ones it refuses) and can be told to fail, so tests can break it on purpose.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One POST that reached the receiver.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: Instant,
    pub body: Value,
    /// The body as it came, for checking its signature.
    pub raw: Vec<u8>,
    /// The `X-Hub-Signature-256` header, when there was one.
    pub signature: Option<String>,
    /// The status the receiver answered.
    pub answered: u16,
}

#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    status: Arc<AtomicU16>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    running: Arc<AtomicBool>,
    /// The token a Cloud subscription's verification `GET` must carry; `None` refuses every
    /// verification.
    verify_token: Arc<Mutex<Option<String>>>,
    /// How many verification requests arrived.
    verifications: Arc<AtomicU16>,
}

impl Receiver {
    pub fn start() -> Receiver {
        // A harness port rather than `bind(0)`: `resume` binds the same port again after `stop`,
        // and a port of the ephemeral range may meanwhile be the local end of some connection.
        // Another process may take a port between the check and this bind: then the next one.
        let (port, listener) = loop {
            let port = crate::free_port();
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
                break (port, listener);
            }
        };
        let receiver = Receiver {
            port,
            status: Arc::new(AtomicU16::new(200)),
            attempts: Arc::default(),
            running: Arc::new(AtomicBool::new(true)),
            verify_token: Arc::default(),
            verifications: Arc::default(),
        };
        receiver.serve(listener);
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhook?auth=secret", self.port)
    }

    /// Answers Cloud's verification `GET` (`hub.mode=subscribe`) with the challenge when it
    /// carries `token`, as a Cloud integration's endpoint does.
    pub fn verify_with(&self, token: &str) {
        *self.verify_token.lock().unwrap() = Some(token.to_string());
    }

    /// How many verification `GET`s arrived.
    pub fn verifications(&self) -> u16 {
        self.verifications.load(Ordering::SeqCst)
    }

    /// The status to answer from now on (200 is the only success).
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Stops listening: connections are refused until [`resume`](Self::resume).
    pub fn stop(&self) {
        self.running.store(false, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Listens again on the same port.
    pub fn resume(&self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        self.running.store(true, Ordering::SeqCst);
        self.serve(listener);
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }

    /// Bodies the receiver accepted with 200.
    pub fn delivered(&self) -> Vec<Value> {
        self.attempts()
            .into_iter()
            .filter(|a| a.answered == 200)
            .map(|a| a.body)
            .collect()
    }

    /// Waits until `done(delivered bodies)` holds; panics after `timeout` with what arrived.
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let delivered = self.delivered();
            if done(&delivered) {
                return delivered;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; {} delivered bodies, last: {:#?}",
                    delivered.len(),
                    delivered.last()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the webhook announcing inbound message `id`; returns its message object.
    pub fn wait_for_inbound(&self, timeout: Duration, id: &str) -> Value {
        let bodies = self.wait_until(timeout, &format!("webhook of {id}"), |b| {
            b.iter().any(|b| b["messages"][0]["id"] == id)
        });
        let body = bodies
            .into_iter()
            .find(|b| b["messages"][0]["id"] == id)
            .unwrap();
        body["messages"][0].clone()
    }

    fn serve(&self, listener: TcpListener) {
        let receiver = self.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if !receiver.running.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let receiver = receiver.clone();
                    std::thread::spawn(move || receiver.handle(stream));
                }
            }
        });
    }

    fn handle(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(stream);
        loop {
            let Some(request) = read_request(&mut reader) else {
                return;
            };
            let response = if request.method == "GET" {
                self.verification(&request.target)
            } else {
                let status = self.status.load(Ordering::SeqCst);
                self.attempts.lock().unwrap().push(Attempt {
                    at: Instant::now(),
                    body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
                    raw: request.body,
                    signature: request.signature,
                    answered: status,
                });
                (status, "ok".to_string())
            };
            let (status, body) = response;
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if reader.get_mut().write_all(response.as_bytes()).is_err() {
                return;
            }
        }
    }

    /// The answer to a verification `GET`: the challenge when the token matches, else 403.
    fn verification(&self, target: &str) -> (u16, String) {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        let query = target.split_once('?').map_or("", |(_, query)| query);
        let param = |name: &str| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        let expected = self.verify_token.lock().unwrap().clone();
        let subscribe = param("hub.mode").as_deref() == Some("subscribe");
        match (param("hub.challenge"), expected) {
            (Some(challenge), Some(token))
                if subscribe && param("hub.verify_token").as_deref() == Some(token.as_str()) =>
            {
                (200, challenge)
            }
            _ => (403, "forbidden".to_string()),
        }
    }
}

/// What the receiver reads of one request.
struct Request {
    method: String,
    /// The path and query.
    target: String,
    signature: Option<String>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request; `None` at EOF or on garbage.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut length = 0usize;
    let mut request_line = None;
    let mut signature = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if request_line.is_none() {
            request_line = Some(line.to_string());
            continue;
        }
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            } else if name.eq_ignore_ascii_case("x-hub-signature-256") {
                signature = Some(value.trim().to_string());
            }
        }
    }
    let request_line = request_line?;
    let mut words = request_line.split(' ');
    let method = words.next()?.to_string();
    let target = words.next()?.to_string();
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        signature,
        body,
    })
}
