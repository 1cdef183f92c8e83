//! The LLM model registry the service exposes at `GET /api/v1/models`, and lookups into it.

use serde::Serialize;
use serde::ser::SerializeMap;

/// Registry key of the default reasoning (planner) model.
pub(crate) const DEFAULT_REASONING: &str = "deepseek-r1";
/// Registry key of the default implementation (SQL, charts) model.
pub(crate) const DEFAULT_IMPLEMENTATION: &str = "deepseek-v3";

/// One registry entry as the service publishes it.
#[derive(Debug, Serialize)]
pub(crate) struct ModelInfo {
    #[serde(skip)]
    pub key: &'static str,
    pub provider: &'static str,
    pub model_name: &'static str,
    pub role: &'static str,
    pub cost_per_1m_tokens: TokenCost,
}

/// Price in US dollars per million tokens.
#[derive(Debug, Serialize)]
pub(crate) struct TokenCost {
    pub input: f64,
    pub output: f64,
}

/// The registry, in the service's order.
pub(crate) const REGISTRY: [ModelInfo; 5] = [
    model(
        "deepseek-r1",
        "azure_ai",
        "DeepSeek-R1-0528",
        "reasoning",
        1.35,
        5.40,
    ),
    model(
        "gpt-4o",
        "azure_openai",
        "gpt-4o",
        "implementation",
        2.50,
        10.00,
    ),
    model(
        "deepseek-v3",
        "azure_ai",
        "DeepSeek-V3-0324",
        "implementation",
        1.14,
        4.56,
    ),
    model(
        "gpt-4o-mini",
        "azure_openai",
        "gpt-4o-mini",
        "implementation",
        0.15,
        0.60,
    ),
    model(
        "ollama-llama3",
        "ollama",
        "llama3:8b",
        "implementation",
        0.0,
        0.0,
    ),
];

const fn model(
    key: &'static str,
    provider: &'static str,
    model_name: &'static str,
    role: &'static str,
    input: f64,
    output: f64,
) -> ModelInfo {
    ModelInfo {
        key,
        provider,
        model_name,
        role,
        cost_per_1m_tokens: TokenCost { input, output },
    }
}

/// Whether `key` names a registry model.
pub(crate) fn is_known(key: &str) -> bool {
    REGISTRY.iter().any(|model| model.key == key)
}

/// The provider's model name for a registry key (e.g. `"DeepSeek-R1-0528"`), if the key is known.
pub(crate) fn provider_model_name(key: &str) -> Option<&'static str> {
    REGISTRY
        .iter()
        .find(|model| model.key == key)
        .map(|model| model.model_name)
}

/// `"deepseek-r1, gpt-4o, ..."`: the registry keys for error messages.
pub(crate) fn known_keys() -> String {
    let keys: Vec<&str> = REGISTRY.iter().map(|model| model.key).collect();
    keys.join(", ")
}

/// The body of `GET /api/v1/models`: `{"defaults":{...},"models":{KEY:{...},...}}`.
#[derive(Debug, Serialize)]
pub(crate) struct ModelsBody {
    defaults: Defaults,
    models: ModelMap,
}

#[derive(Debug, Serialize)]
struct Defaults {
    reasoning: &'static str,
    implementation: &'static str,
}

/// The registry serialized as an object keyed by registry key, in registry order.
#[derive(Debug)]
struct ModelMap(&'static [ModelInfo]);

impl Serialize for ModelMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for model in self.0 {
            map.serialize_entry(model.key, model)?;
        }
        map.end()
    }
}

impl ModelsBody {
    /// The full registry, or an empty `models` object (the `models_empty` fault).
    pub(crate) fn new(empty: bool) -> Self {
        const NONE: &[ModelInfo] = &[];
        ModelsBody {
            defaults: Defaults {
                reasoning: DEFAULT_REASONING,
                implementation: DEFAULT_IMPLEMENTATION,
            },
            models: ModelMap(if empty { NONE } else { &REGISTRY }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_body_lists_registry_in_order_after_defaults() {
        let body = serde_json::to_string(&ModelsBody::new(false)).expect("serializable");
        assert!(body.starts_with(
            r#"{"defaults":{"reasoning":"deepseek-r1","implementation":"deepseek-v3"},"models":{"deepseek-r1":{"provider":"azure_ai","model_name":"DeepSeek-R1-0528","role":"reasoning","cost_per_1m_tokens":{"input":1.35,"output":5.4}},"gpt-4o":"#
        ));
        let empty = serde_json::to_string(&ModelsBody::new(true)).expect("serializable");
        assert!(empty.ends_with(r#""models":{}}"#), "{empty}");
    }

    #[test]
    fn known_keys_are_in_registry_order() {
        assert_eq!(
            known_keys(),
            "deepseek-r1, gpt-4o, deepseek-v3, gpt-4o-mini, ollama-llama3"
        );
        assert!(is_known("gpt-4o-mini"));
        assert!(!is_known("invalid-model"));
        assert_eq!(
            provider_model_name(DEFAULT_REASONING),
            Some("DeepSeek-R1-0528")
        );
    }
}
