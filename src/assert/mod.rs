//! placeholder (replaced by the assert branch)
use crate::config::FieldError;
use crate::probe::Finding;
use serde::Deserialize;
use serde_json::Value;
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJsonAssertion {
    pub path: Option<String>,
}
#[derive(Debug)]
pub struct JsonAssertion;
impl JsonAssertion {
    pub fn evaluate(&self, _root: &Value, _findings: &mut Vec<Finding>) {}
}
pub fn compile(_raw: &RawJsonAssertion) -> Result<JsonAssertion, Vec<FieldError>> {
    Ok(JsonAssertion)
}
pub fn toml_to_json(v: &toml::Value) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}
