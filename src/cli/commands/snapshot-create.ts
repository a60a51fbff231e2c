export { createCommand as default } from "./snapshot.js";
