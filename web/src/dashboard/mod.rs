//! Grafana dashboards, rendered on the server: `/dashboards` lists them,
//! `/d/<uid>?from=…&to=…&var-<name>=…` draws one on the 24-column grid.
//! Dashboards come from a provisioning directory (`--dashboards DIR`) and
//! the built-in "Vigil overview".
//!
//! The rooms, by job:
//! - [`model`]: dashboard JSON read into what is drawn (panels, field
//!   settings, variables);
//! - [`vars`]: variables interpolated into queries and text;
//! - `var_options`: each variable's options and selection for one view;
//! - `panel`: one panel drawn: its time range and step, its queries, its
//!   colours and legend, and the drawing per panel kind;
//! - `repeat`: panels repeated for each value of a variable;
//! - `links` and `annotations`: what the page shows around the panels;
//! - `handlers`: the HTTP handlers (list, import, show, one panel as an image);
//! - [`datemath`]: Grafana's relative times (`now-1d/d`) and quick ranges;
//! - `provision`: the built-in dashboards and those read from a directory;
//! - [`markdown`]: text panels.

mod annotations;
pub mod datemath;
mod handlers;
mod links;
pub mod markdown;
pub mod model;
mod panel;
mod provision;
mod repeat;
mod var_options;
pub mod vars;

pub use handlers::{import, list, parse_time, render_image, show};
pub use provision::{builtin, host_listed, load_dir, HOST_JSON, HOST_UID, OVERVIEW_JSON};
