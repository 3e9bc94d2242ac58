//! The part of SPDX 2.3's JSON model the SBOM writes (field names as the SPDX 2.3 JSON
//! schema spells them). Our own serde types: see README ("Attestations: SBOM and provenance") for why
//! not `spdx-rs` or `serde-spdx`.

use serde::Serialize;

pub const NOASSERTION: &str = "NOASSERTION";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub spdx_version: &'static str,
    pub data_license: &'static str,
    #[serde(rename = "SPDXID")]
    pub spdx_id: &'static str,
    pub name: String,
    pub document_namespace: String,
    pub creation_info: CreationInfo,
    pub packages: Vec<Package>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<File>,
    pub relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationInfo {
    pub created: String,
    pub creators: Vec<String>,
    pub license_list_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub name: String,
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_info: Option<String>,
    pub download_location: &'static str,
    pub files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_info: Option<String>,
    pub license_concluded: &'static str,
    pub license_declared: String,
    pub copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_package_purpose: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRef {
    pub reference_category: &'static str,
    pub reference_type: &'static str,
    pub reference_locator: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    pub file_name: String,
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    pub checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checksum {
    pub algorithm: &'static str,
    pub checksum_value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    pub spdx_element_id: String,
    pub relationship_type: &'static str,
    pub related_spdx_element: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractedLicense {
    pub license_id: String,
    pub extracted_text: String,
    pub name: String,
}
