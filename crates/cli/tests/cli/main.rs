//! Integration tests of the `datalab` binary: one test binary, one module per area.

mod build;
mod city;
mod config;
mod contract;
mod custodian;
mod dashboard;
mod datapacks;
mod forecast;
mod indicators;
mod inputs;
mod layering;
mod library;
mod openapi;
mod projection;
mod registry;
mod release;
mod report;
mod server;
mod simulate;
mod site;
mod support;
