//! Where a store is (`run.store`): a SQLite file, or a PostgreSQL database with the password it asks for
//! (given by reference in `run.store_password`, never shown).

use super::db::PgTarget;
use super::{Store, StoreResult};
use crate::rollback::Secret;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    File(PathBuf),
    Postgres {
        target: PgTarget,
        password: Option<Secret>,
    },
}

/// The file, or the URL (which never holds the password).
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Postgres { target, .. } => write!(f, "{target}"),
        }
    }
}

impl Location {
    /// The SQLite file, if the store is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(path) => Some(path),
            Location::Postgres { .. } => None,
        }
    }
}

impl Store {
    /// [`Store::open`] for a store anywhere.
    pub fn open_at(location: &Location) -> StoreResult<Store> {
        match location {
            Location::File(path) => Store::open(path),
            Location::Postgres { target, password } => Store::open_url(target, text(password)),
        }
    }

    /// [`Store::open_for_run`] for a store anywhere. A PostgreSQL store has no run lock: several agents
    /// write one store by design (who acts once for all of them is the fleet's lease, a later part).
    pub fn open_for_run_at(location: &Location) -> StoreResult<Store> {
        match location {
            Location::File(path) => Store::open_for_run(path),
            Location::Postgres { target, password } => Store::open_url(target, text(password)),
        }
    }

    /// [`Store::open_for_reading`] for a store anywhere.
    pub fn open_for_reading_at(location: &Location) -> StoreResult<Store> {
        match location {
            Location::File(path) => Store::open_for_reading(path),
            Location::Postgres { target, password } => Store::open_url(target, text(password)),
        }
    }
}

fn text(password: &Option<Secret>) -> Option<&str> {
    password
        .as_ref()
        .and_then(|secret| std::str::from_utf8(secret.expose()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_postgres::{self, PASSWORD, PASSWORD_ROLE};

    #[test]
    fn a_role_with_a_password_opens_the_store_with_it_and_errors_name_the_url_only() {
        let url = test_postgres::database();
        let database = url.rsplit('/').next().expect("a database name");
        let server = test_postgres::server();
        let target = PgTarget::parse(&server.url(PASSWORD_ROLE, database)).expect("url");
        let location = |password: Option<&str>| Location::Postgres {
            target: target.clone(),
            password: password.map(|p| Secret::new(p.as_bytes().to_vec())),
        };
        let store = Store::open_at(&location(Some(PASSWORD))).expect("open with the password");
        assert_eq!(store.schema_version().expect("version"), 11);
        assert_eq!(
            format!("{}", location(Some(PASSWORD))),
            format!(
                "postgres://{PASSWORD_ROLE}@127.0.0.1:{}/{database}",
                server.port
            )
        );
        for wrong in [None, Some("not-it")] {
            let error = Store::open_for_run_at(&location(wrong))
                .expect_err("refused")
                .to_string();
            assert!(
                error.starts_with(&format!("store {target}: ")),
                "names the store: {error}"
            );
            assert!(
                !error.contains(PASSWORD) && !error.contains("not-it"),
                "{error}"
            );
        }
    }
}
