//! A row read from either backend, and the Rust types its cells are read as ([`Cell`]).

use super::super::{StoreError, StoreResult};
use postgres::types::Type;

/// A cell as either backend holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// One row of a result.
#[derive(Debug)]
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// Cell `index` (0-based) as `T`.
    pub fn get<T: Cell>(&self, index: usize) -> StoreResult<T> {
        T::from_value(self.value(index)?).map_err(|detail| StoreError::Column { index, detail })
    }

    fn value(&self, index: usize) -> StoreResult<Value> {
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(index)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                rusqlite::types::ValueRef::Real(v) => Value::Real(v),
                rusqlite::types::ValueRef::Text(v) => {
                    Value::Text(String::from_utf8_lossy(v).into_owned())
                }
                rusqlite::types::ValueRef::Blob(v) => Value::Blob(v.to_vec()),
            }),
            Row::Postgres(r) => pg_value(r, index),
        }
    }
}

fn pg_value(r: &postgres::Row, index: usize) -> StoreResult<Value> {
    let column = r.columns().get(index).ok_or(StoreError::Column {
        index,
        detail: "no such column".into(),
    })?;
    let value = match *column.type_() {
        Type::INT8 => r.try_get::<_, Option<i64>>(index)?.map(Value::Int),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(index)?
            .map(|v| Value::Int(v.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(index)?
            .map(|v| Value::Int(v.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(index)?
            .map(|v| Value::Int(v.into())),
        Type::FLOAT8 => r.try_get::<_, Option<f64>>(index)?.map(Value::Real),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(index)?
            .map(|v| Value::Real(v.into())),
        Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(index)?.map(Value::Blob),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            r.try_get::<_, Option<String>>(index)?.map(Value::Text)
        }
        ref other => {
            return Err(StoreError::Column {
                index,
                detail: format!("PostgreSQL type {other} is not read by oewsprobe (cast it)"),
            });
        }
    };
    Ok(value.unwrap_or(Value::Null))
}

/// A Rust type a cell is read as.
pub trait Cell: Sized {
    fn from_value(value: Value) -> Result<Self, String>;
}

fn wrong(value: &Value, wanted: &str) -> String {
    format!("{value:?} is not {wanted}")
}

impl Cell for Value {
    fn from_value(value: Value) -> Result<Self, String> {
        Ok(value)
    }
}

impl Cell for i64 {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Int(v) => Ok(v),
            other => Err(wrong(&other, "an integer")),
        }
    }
}

macro_rules! narrow_int {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn from_value(value: Value) -> Result<Self, String> {
                let v = i64::from_value(value)?;
                <$t>::try_from(v).map_err(|_| format!("{v} is out of range for {}", stringify!($t)))
            }
        }
    )*};
}
narrow_int!(u64, u32, u16, i32, usize);

impl Cell for bool {
    fn from_value(value: Value) -> Result<Self, String> {
        Ok(i64::from_value(value)? != 0)
    }
}

impl Cell for f64 {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Real(v) => Ok(v),
            Value::Int(v) => Ok(v as f64),
            other => Err(wrong(&other, "a number")),
        }
    }
}

impl Cell for String {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Text(v) => Ok(v),
            other => Err(wrong(&other, "text")),
        }
    }
}

impl Cell for Vec<u8> {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Blob(v) => Ok(v),
            Value::Text(v) => Ok(v.into_bytes()),
            other => Err(wrong(&other, "a blob")),
        }
    }
}

impl<T: Cell> Cell for Option<T> {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}
