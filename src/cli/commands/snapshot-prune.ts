export { pruneCommand as default } from "./snapshot.js";
