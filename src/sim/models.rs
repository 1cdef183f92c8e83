//! The LLM model registry the service exposes at `GET /api/v1/models`, and lookups into it.

use serde::Serialize;
use serde::ser::SerializeMap;

use super::Profile;

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
    /// Price in US dollars per million tokens.
    pub cost_per_1m_tokens: f64,
}

/// The registry, in the service's order.
pub(crate) const REGISTRY: [ModelInfo; 5] = [
    model(
        "deepseek-r1",
        "azure_ai",
        "DeepSeek-R1-0528",
        "reasoning",
        0.55,
    ),
    model("gpt-4o", "openai", "gpt-4o", "reasoning", 2.5),
    model(
        "deepseek-v3",
        "azure_ai",
        "DeepSeek-V3-0324",
        "implementation",
        0.27,
    ),
    model(
        "gpt-4o-mini",
        "openai",
        "gpt-4o-mini",
        "implementation",
        0.15,
    ),
    model("ollama-llama3", "ollama", "llama3", "implementation", 0.0),
];

const fn model(
    key: &'static str,
    provider: &'static str,
    model_name: &'static str,
    role: &'static str,
    cost_per_1m_tokens: f64,
) -> ModelInfo {
    ModelInfo {
        key,
        provider,
        model_name,
        role,
        cost_per_1m_tokens,
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

/// The registry keys in registry order.
pub(crate) fn keys() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|model| model.key)
}

/// `"deepseek-r1, gpt-4o, ..."`: the registry keys for error messages.
pub(crate) fn known_keys() -> String {
    keys().collect::<Vec<_>>().join(", ")
}

/// The body of `GET /api/v1/models`: as built `{"defaults":{...},"models":{KEY:{...},...}}`; the runbook
/// shows only `{"models":{...}}`.
#[derive(Debug, Serialize)]
pub(crate) struct ModelsBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    defaults: Option<Defaults>,
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
    /// The profile's body with the full registry, or an empty `models` object (the `models_empty` fault).
    pub(crate) fn new(profile: Profile, empty: bool) -> Self {
        const NONE: &[ModelInfo] = &[];
        ModelsBody {
            defaults: (profile == Profile::AsBuilt).then_some(Defaults {
                reasoning: DEFAULT_REASONING,
                implementation: DEFAULT_IMPLEMENTATION,
            }),
            models: ModelMap(if empty { NONE } else { &REGISTRY }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_body_is_the_services_registry_in_order() {
        let body = |profile, empty| {
            serde_json::to_string(&ModelsBody::new(profile, empty)).expect("serializable")
        };
        let models = r#""models":{"deepseek-r1":{"provider":"azure_ai","model_name":"DeepSeek-R1-0528","role":"reasoning","cost_per_1m_tokens":0.55},"gpt-4o":{"provider":"openai","model_name":"gpt-4o","role":"reasoning","cost_per_1m_tokens":2.5},"deepseek-v3":{"provider":"azure_ai","model_name":"DeepSeek-V3-0324","role":"implementation","cost_per_1m_tokens":0.27},"gpt-4o-mini":{"provider":"openai","model_name":"gpt-4o-mini","role":"implementation","cost_per_1m_tokens":0.15},"ollama-llama3":{"provider":"ollama","model_name":"llama3","role":"implementation","cost_per_1m_tokens":0.0}}"#;
        let defaults = r#""defaults":{"reasoning":"deepseek-r1","implementation":"deepseek-v3"}"#;
        assert_eq!(
            body(Profile::AsBuilt, false),
            format!("{{{defaults},{models}}}")
        );
        assert_eq!(body(Profile::Runbook, false), format!("{{{models}}}"));
        assert_eq!(
            body(Profile::AsBuilt, true),
            format!(r#"{{{defaults},"models":{{}}}}"#)
        );
        assert_eq!(body(Profile::Runbook, true), r#"{"models":{}}"#);
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
