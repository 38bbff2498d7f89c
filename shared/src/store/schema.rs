//! The table's definition, in one place: local runs and tests create the table from it, and a
//! test checks that `template.yaml` declares exactly the same keys, indexes and TTL.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::keys;
use crate::error::Result;

/// One key schema: partition key and sort key attribute names (all strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub hash: &'static str,
    pub range: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    pub key: KeyPair,
    /// Global secondary indexes by name, all projecting every attribute.
    pub gsis: Vec<(&'static str, KeyPair)>,
    pub ttl_attribute: &'static str,
}

pub fn definition() -> TableDefinition {
    TableDefinition {
        key: KeyPair {
            hash: keys::PK,
            range: keys::SK,
        },
        gsis: vec![(
            keys::GSI1,
            KeyPair {
                hash: keys::GSI1PK,
                range: keys::GSI1SK,
            },
        )],
        ttl_attribute: keys::TTL_ATTRIBUTE,
    }
}

fn key_schema(pair: &KeyPair) -> Result<Vec<KeySchemaElement>> {
    Ok(vec![
        KeySchemaElement::builder()
            .attribute_name(pair.hash)
            .key_type(KeyType::Hash)
            .build()?,
        KeySchemaElement::builder()
            .attribute_name(pair.range)
            .key_type(KeyType::Range)
            .build()?,
    ])
}

/// Creates the table (on-demand) and enables TTL. Used by the local runner and the tests; on
/// AWS the table comes from `template.yaml`.
pub async fn create_table(client: &Client, name: &str) -> Result<()> {
    let def = definition();
    let mut attributes = vec![def.key.hash, def.key.range];
    for (_, pair) in &def.gsis {
        attributes.extend([pair.hash, pair.range]);
    }
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&def.key)?));
    for attribute in attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    for (index, pair) in &def.gsis {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(*index)
                .set_key_schema(Some(key_schema(pair)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        );
    }
    request.send().await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(def.ttl_attribute)
                .enabled(true)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// Creates the table unless it already exists.
pub async fn ensure_table(client: &Client, name: &str) -> Result<()> {
    let exists = client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .is_ok();
    if exists {
        return Ok(());
    }
    create_table(client, name).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    fn template() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        serde_yaml::from_str(&std::fs::read_to_string(path).expect("template.yaml")).unwrap()
    }

    fn pair(schema: &Value) -> (String, String) {
        let mut hash = String::new();
        let mut range = String::new();
        for element in schema.as_sequence().expect("KeySchema list") {
            let name = element["AttributeName"].as_str().unwrap().to_string();
            match element["KeyType"].as_str().unwrap() {
                "HASH" => hash = name,
                "RANGE" => range = name,
                other => panic!("unknown KeyType {other}"),
            }
        }
        (hash, range)
    }

    /// Fails if `template.yaml` and the code disagree about the table.
    #[test]
    fn template_table_matches_the_code() {
        let t = template();
        let table = &t["Resources"]["Table"]["Properties"];
        let def = definition();
        assert_eq!(
            pair(&table["KeySchema"]),
            (def.key.hash.to_string(), def.key.range.to_string())
        );
        let gsis: Vec<(String, (String, String))> = table["GlobalSecondaryIndexes"]
            .as_sequence()
            .expect("GlobalSecondaryIndexes")
            .iter()
            .map(|g| {
                assert_eq!(g["Projection"]["ProjectionType"].as_str(), Some("ALL"));
                (
                    g["IndexName"].as_str().unwrap().to_string(),
                    pair(&g["KeySchema"]),
                )
            })
            .collect();
        let expected: Vec<(String, (String, String))> = def
            .gsis
            .iter()
            .map(|(n, p)| (n.to_string(), (p.hash.to_string(), p.range.to_string())))
            .collect();
        assert_eq!(gsis, expected);
        assert_eq!(
            table["TimeToLiveSpecification"]["AttributeName"].as_str(),
            Some(def.ttl_attribute)
        );
        assert_eq!(
            table["TimeToLiveSpecification"]["Enabled"].as_bool(),
            Some(true)
        );
        let attrs: Vec<&str> = table["AttributeDefinitions"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(a["AttributeType"].as_str(), Some("S"));
                a["AttributeName"].as_str().unwrap()
            })
            .collect();
        assert_eq!(attrs, ["PK", "SK", "GSI1PK", "GSI1SK"]);
    }
}
