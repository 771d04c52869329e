//! TLS for sync: the hub's listener (`wss://`, rustls with ring) and the
//! client's certificate verification (the OS's roots plus an optional CA
//! file, for a hub with a private or self-signed certificate), and what to
//! tell a person when verification fails.
//!
//! A self-signed certificate made the usual way (`openssl req -x509`) says
//! it is a CA, which WebPKI refuses as a server's own certificate
//! (`CaUsedAsEndEntity`). Given as `--ca-file`, such a certificate is
//! trusted as exactly itself: a hub presenting those very bytes is
//! accepted, still only for the names in it and within its dates.
//!
//! `listener` runs each handshake in its connection's own task, within
//! `serve.tls_handshake_ms`, so a stalled client holds up no one else.

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("certificate {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("certificate {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "certificate {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// The hub's TLS settings from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("private key {}: {e}", key.display()))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs(cert)?, key)
        .map_err(|e| format!("certificate and key do not fit together: {e}"))?;
    Ok(Arc::new(config))
}

/// How a client verifies hubs: the OS's roots, plus `ca_file` if given;
/// a certificate in `ca_file` is also trusted as exactly itself.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let mut pinned = Vec::new();
    if let Some(path) = ca_file {
        for cert in certs(path)? {
            roots
                .add(cert.clone())
                .map_err(|e| format!("CA file {}: {e}", path.display()))?;
            pinned.push(cert);
        }
    }
    let provider = provider();
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("cannot verify certificates: {e}"))?;
    let verifier = Arc::new(Verifier {
        webpki,
        pinned,
        provider: provider.clone(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// WebPKI, and then the certificates of the CA file as themselves.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused =
            match self
                .webpki
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            {
                Ok(verified) => return Ok(verified),
                Err(e) => e,
            };
        if !self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Err(refused);
        }
        // The very certificate the user gave: its signature vouches for
        // nothing more than the bytes do, but the name and dates still count.
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        let (not_before, not_after) =
            validity(end_entity.as_ref()).ok_or(CertificateError::BadEncoding)?;
        let now = now.as_secs();
        if now < not_before {
            return Err(CertificateError::NotValidYet.into());
        }
        if now > not_after {
            return Err(CertificateError::Expired.into());
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A certificate's notBefore and notAfter, in seconds since the Unix epoch:
/// Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version OPTIONAL,
/// serial INTEGER, signature SEQUENCE, issuer SEQUENCE, validity SEQUENCE
/// { notBefore Time, notAfter Time }, ... } ... } (RFC 5280, 4.1).
fn validity(der: &[u8]) -> Option<(u64, u64)> {
    let (_, cert, _) = der_item(der)?;
    let (_, tbs, _) = der_item(cert)?;
    let mut rest = tbs;
    let (tag, _, after) = der_item(rest)?;
    if tag == 0xa0 {
        rest = after; // the explicit version
    }
    for _ in 0..3 {
        rest = der_item(rest)?.2; // serial, signature algorithm, issuer
    }
    let (_, validity, _) = der_item(rest)?;
    let (tag1, t1, after) = der_item(validity)?;
    let (tag2, t2, _) = der_item(after)?;
    Some((der_time(tag1, t1)?, der_time(tag2, t2)?))
}

/// One DER item: (tag, contents, what follows).
fn der_item(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`, tag 0x18) as seconds since the Unix epoch.
fn der_time(tag: u8, text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 if text.len() == 12 => {
            let yy: i64 = text[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        0x18 if text.len() == 14 => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let field = |i: usize| rest.get(i..i + 2)?.parse::<i64>().ok();
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from 1970-01-01 to the date (the civil-from-days inverse).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// What to tell a person when TLS with the hub at `url` failed with `e`:
/// what is wrong and what to do. With a `--ca-file` already given, the
/// advice to give one becomes what that file did not match.
pub fn explain(e: &rustls::Error, url: &str, ca_file: Option<&Path>) -> String {
    use rustls::InvalidMessage;
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_end_matches('/');
    match e {
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType) => format!(
            "the hub at {host} does not speak TLS (it answered in plain text): use ws://{host}, \
             or serve it with --tls-cert and --tls-key"
        ),
        rustls::Error::InvalidCertificate(cert) => {
            let self_signed = matches!(cert, CertificateError::Other(other)
                if format!("{other}").contains("CaUsedAsEndEntity"));
            let untrusted = self_signed || matches!(cert, CertificateError::UnknownIssuer);
            if let (true, Some(ca)) = (untrusted, ca_file) {
                return format!(
                    "the hub's certificate is neither the certificate in {} nor signed by it: \
                     give the hub's own certificate (or its CA's) with --ca-file, or check that \
                     {url} is the hub you mean",
                    ca.display()
                );
            }
            let why = match cert {
                CertificateError::UnknownIssuer => {
                    "is signed by a CA this machine does not trust: \
                     give the CA's certificate, or the hub's own certificate if it is \
                     self-signed, with --ca-file FILE (`syncdb remote add NAME URL --ca-file FILE`)"
                        .to_owned()
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    let names = match cert {
                        CertificateError::NotValidForNameContext { presented, .. }
                            if !presented.is_empty() =>
                        {
                            // `DnsName("hub")` as `hub`.
                            let names: Vec<&str> = presented
                                .iter()
                                .map(|n| n.split('"').nth(1).unwrap_or(n))
                                .collect();
                            format!(" (it names {})", names.join(", "))
                        }
                        _ => String::new(),
                    };
                    format!(
                        "is not for the host in {url}{names}: connect by a name the \
                         certificate lists, or make one whose subjectAltName includes that host"
                    )
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "has expired: renew it on the hub (then run `syncdb serve` again), \
                     or check this machine's clock"
                        .to_owned()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "is not valid yet: check the clocks of this machine and the hub".to_owned()
                }
                CertificateError::Other(_) if self_signed => {
                    "is self-signed (a CA certificate) and this machine does not trust it: \
                     if it is the hub's own certificate, give that file with --ca-file FILE \
                     (it is then trusted as exactly itself)"
                        .to_owned()
                }
                other => format!("was refused ({other})"),
            };
            format!("the hub's certificate {why}")
        }
        rustls::Error::AlertReceived(alert) => format!(
            "the hub refused the TLS handshake ({alert:?}); check that it serves TLS on {host}"
        ),
        other => format!("TLS with {host} failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_times_are_read_as_unix_seconds() {
        assert_eq!(der_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(der_time(0x17, b"260102030405Z"), Some(1_767_323_045));
        assert_eq!(der_time(0x18, b"20260102030405Z"), Some(1_767_323_045));
        assert_eq!(der_time(0x18, b"99991231235959Z"), Some(253_402_300_799));
        assert_eq!(der_time(0x17, b"261302030405Z"), None);
    }
}
