export { restoreCommand as default } from "./snapshot.js";
