// Kept in step with package.json by a unit test; a literal so --version reads no file.
export const VERSION = "0.1.0";
