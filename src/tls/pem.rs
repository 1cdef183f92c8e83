//! PEM files read into rustls types, with errors that name the file and say what was wrong with it.

use std::path::Path;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificates of a PEM file (at least one).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = read(path)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate file ({e})", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate in it (expected \"-----BEGIN CERTIFICATE-----\")",
            path.display()
        ));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let text = read(path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| match e {
        pem::Error::NoItemsFound => format!(
            "{}: no private key in it (expected \"-----BEGIN PRIVATE KEY-----\")",
            path.display()
        ),
        e => format!("{}: not a PEM private key file ({e})", path.display()),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_without_the_expected_item_are_named_with_what_was_expected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "hello\n").expect("write");
        assert_eq!(
            read_certificates(&empty).expect_err("no certificate"),
            format!(
                "{}: no certificate in it (expected \"-----BEGIN CERTIFICATE-----\")",
                empty.display()
            )
        );
        assert_eq!(
            read_private_key(&empty).expect_err("no key"),
            format!(
                "{}: no private key in it (expected \"-----BEGIN PRIVATE KEY-----\")",
                empty.display()
            )
        );
        let broken = dir.path().join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\n!!!\n").expect("write");
        assert!(
            read_certificates(&broken)
                .expect_err("broken")
                .starts_with(&format!(
                    "{}: not a PEM certificate file (",
                    broken.display()
                ))
        );
        assert_eq!(
            read_certificates(Path::new("/nonexistent/ca.pem")).expect_err("missing"),
            "cannot read /nonexistent/ca.pem: No such file or directory (os error 2)"
        );
    }
}
