/**
 * The extension's window onto the backend's pure file-system helpers: where Runlens's own store
 * goes in a folder, and which MLflow stores a folder already holds. A composition root (see
 * scripts/check-layers.js): it only reads files, so no reader or sql.js lands in the extension bundle.
 */
export { chooseStoreRoot, type StoreRootChoice } from '../../backend/storeRoot';
export { discoverStores, type FoundStore, type Discovery } from '../../backend/discover';
export { detectMlflowStore } from '../../backend/transfer/detectKind';
