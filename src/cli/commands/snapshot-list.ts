export { listCommand as default } from "./snapshot.js";
