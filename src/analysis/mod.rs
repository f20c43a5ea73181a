//! Analysis of a project's results: what the network learned and how the predicted space is
//! laid out (t-SNE maps). Library functions the CLI and the GUI call alike.

pub mod tsne;
