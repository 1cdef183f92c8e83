//! placeholder (replaced by the assert branch)
use crate::config::FieldError;
use crate::probe::Finding;
use serde::Deserialize;
use serde_json::Value;
#[derive(Debug, Deserialize)]
pub struct RawTrace {}
#[derive(Debug, Deserialize)]
pub struct RawEcho {}
#[derive(Debug, Deserialize)]
pub struct RawValidationError {}
#[derive(Debug)]
pub struct TraceExpectation;
#[derive(Debug)]
pub struct EchoExpectation;
#[derive(Debug)]
pub struct ValidationErrorExpectation;
pub fn compile_trace(
    _r: &RawTrace,
    _b: Option<&Value>,
) -> Result<TraceExpectation, Vec<FieldError>> {
    Ok(TraceExpectation)
}
pub fn compile_echo(_r: &RawEcho, _b: Option<&Value>) -> Result<EchoExpectation, Vec<FieldError>> {
    Ok(EchoExpectation)
}
pub fn compile_validation_error(
    _r: &RawValidationError,
) -> Result<ValidationErrorExpectation, Vec<FieldError>> {
    Ok(ValidationErrorExpectation)
}
pub fn check_trace(_e: &TraceExpectation, _b: &Value, _f: &mut Vec<Finding>) {}
pub fn check_echo(_e: &EchoExpectation, _b: &Value, _f: &mut Vec<Finding>) {}
pub fn check_validation_error(
    _e: &ValidationErrorExpectation,
    _s: u16,
    _b: Option<&Value>,
    _f: &mut Vec<Finding>,
) {
}
