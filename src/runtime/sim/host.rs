//! The simulator answers only its own `Host` names, so that a web page on another site cannot
//! reach the console or the fake API through DNS rebinding (a name of the attacker's that
//! resolves to this machine). Allowed: `localhost`, a loopback address, the bound address, and
//! when bound to every interface (`FLOWBOT_SIMULATOR_PUBLIC=1`) any IP address, never a DNS name
//! other than `localhost`. The port is not checked: a container's published port may differ from
//! the bound one, and rebinding is about the name. Anything else gets 421.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether `host` (a `Host` header's value) names the simulator bound on `bound`.
pub fn allows(host: &str, bound: SocketAddr) -> bool {
    let name = name_of(host);
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let Ok(ip) = name.parse::<IpAddr>() else {
        return false;
    };
    ip.is_loopback() || ip == bound.ip() || bound.ip().is_unspecified()
}

/// The name of `name[:port]` or `[v6][:port]`.
fn name_of(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(host, |(v6, _)| v6);
    }
    match host.rsplit_once(':') {
        Some((name, _)) if !name.contains(':') => name,
        _ => host,
    }
}

/// The middleware in front of every simulator route.
pub async fn guard(State(bound): State<SocketAddr>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if allows(host, bound) {
        return next.run(request).await;
    }
    tracing::warn!(
        host = %crate::base::log_safe::log_safe(host),
        "simulator refused a request for a foreign Host"
    );
    (StatusCode::MISDIRECTED_REQUEST, "unknown host").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_names_only() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for ok in [
            "127.0.0.1:8080",
            "localhost:9000",
            "LOCALHOST",
            "[::1]:8080",
            "127.0.0.1",
        ] {
            assert!(allows(ok, lo), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "evil.example",
            "10.0.0.2:8080",
            "",
            "localhost.evil.example",
        ] {
            assert!(!allows(bad, lo), "{bad}");
        }
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(allows("192.168.1.20:8080", any));
        assert!(!allows("rebind.example:8080", any));
        let lan: SocketAddr = "192.168.1.20:8080".parse().unwrap();
        assert!(allows("192.168.1.20:8080", lan));
        assert!(!allows("192.168.1.21:8080", lan));
    }
}
