//! A webapp behind a TCP load balancer that sends the PROXY protocol v2 header
//! (`WA_WEB_PROXY_PROTOCOL=1`, haproxy's `send-proxy-v2`): the per-IP login lockout and the access
//! log key on the client named in the header, not on the balancer's address, and a connection
//! without the header is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, webapp};
use e2e::{free_port, Client};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

use e2e::ADMIN_PASSWORD as PASSWORD;

/// A PROXY v2 header for a TCP/IPv4 connection from `client` (written out byte by byte from the
/// protocol's specification, independently of the parser under test).
fn proxy_v2_header(client: Ipv4Addr, client_port: u16, server_port: u16) -> Vec<u8> {
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.push(0x21); // version 2, PROXY
    header.push(0x11); // AF_INET, STREAM
    header.extend_from_slice(&12u16.to_be_bytes());
    header.extend_from_slice(&client.octets());
    header.extend_from_slice(&Ipv4Addr::LOCALHOST.octets());
    header.extend_from_slice(&client_port.to_be_bytes());
    header.extend_from_slice(&server_port.to_be_bytes());
    header
}

/// A minimal load balancer on a port of its own: every connection to it is relayed to the webapp
/// after a PROXY header naming `client`. Returns the port to connect to.
fn balancer_for(client: Ipv4Addr, webapp_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for (n, downstream) in listener.incoming().enumerate() {
            let Ok(downstream) = downstream else { continue };
            let client_port = 40_000 + (n % 20_000) as u16;
            thread::spawn(move || relay(downstream, client, client_port, webapp_port));
        }
    });
    port
}

fn relay(downstream: TcpStream, client: Ipv4Addr, client_port: u16, webapp_port: u16) {
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", webapp_port)) else {
        return;
    };
    if upstream
        .write_all(&proxy_v2_header(client, client_port, webapp_port))
        .is_err()
    {
        return;
    }
    let (Ok(up_read), Ok(down_write)) = (upstream.try_clone(), downstream.try_clone()) else {
        return;
    };
    let back = thread::spawn(move || pipe(up_read, down_write));
    pipe(downstream, upstream);
    let _ = back.join();
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buffer) {
        if n == 0 || to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Wrong passwords from `api` until the webapp answers 429 (the lockout), at most 50.
fn lock_out(api: &Client) {
    for _ in 0..50 {
        let r = api.login("admin", "wrong-password", None);
        if r.status == 429 {
            r.expect_error(429, 1015);
            return;
        }
        r.expect_error(401, 1005);
    }
    panic!("no lockout after 50 failed logins");
}

#[test]
fn lockout_and_access_log_use_the_proxied_client_address() {
    let db = TestDb::new(Backend::Sqlite);
    let mut vars = env(&[
        ("ONPREM__DATABASE__URL", &db.url),
        ("WA_WEB_PROXY_PROTOCOL", "1"),
    ]);
    vars.insert("ONPREM__WEBAPP__WORKERS".into(), "2".into());
    // Login needs no coreapp; nothing listens on this port.
    let web = webapp(&vars, free_port());
    let attacker = Ipv4Addr::new(203, 0, 113, 7);
    let colleague = Ipv4Addr::new(198, 51, 100, 9);
    let via_attacker = Client::new(balancer_for(attacker, web.port));
    let via_colleague = Client::new(balancer_for(colleague, web.port));

    via_colleague.first_login(PASSWORD);
    lock_out(&via_attacker);
    // Locked out: even the right password, from the attacker's address...
    via_attacker
        .login("admin", PASSWORD, None)
        .expect_error(429, 1015);
    // ...while another client behind the same balancer (the same TCP peer) still logs in.
    via_colleague
        .login("admin", PASSWORD, None)
        .expect_status(200);

    // The access log names the proxied clients.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(web.service.log().contains("203.0.113.7") && web.service.log().contains("198.51.100.9"))
    {
        assert!(Instant::now() < deadline, "log:\n{}", web.service.log());
        thread::sleep(Duration::from_millis(100));
    }

    // Without the header the connection is closed before TLS: no answer at all.
    let direct = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let answer = direct
        .get(format!("https://localhost:{}/v1/health", web.port))
        .send();
    assert!(
        answer.is_err(),
        "answered without a PROXY header: {answer:?}"
    );
}
