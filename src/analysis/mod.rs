//! What the network learned, made into lists, pictures and maps a researcher can look at and
//! listen to (the seed's "Analysis", "Similarity-based playlists" and "What will this be used
//! for?"): first-layer filter pictures, activation and similarity playlists, naming help,
//! t-SNE maps of the predicted space, audio-versus-CF neighbours and the outlier filter. Most
//! read a project's results through [`results::ProjectResults`]; the CLI and the app call
//! these functions, views never compute them.

pub mod bench;
pub mod describe;
pub mod filters;
pub mod names;
pub mod neighbours;
pub mod outliers;
pub mod playlist_files;
pub mod playlists;
pub mod regions;
pub mod report;
pub mod results;
pub mod top_k;
pub mod tsne;

pub use results::{AnalysisError, ProjectResults};
