import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

// The double serves HTTPS as every API server does (client-node refuses plain HTTP unless
// told to skip TLS checks): a self-signed certificate for 127.0.0.1, made with openssl for
// one run, which the kubeconfig names as its certificate authority.

export interface ServingCertificate {
  cert: string;
  key: string;
}

export async function servingCertificate(): Promise<ServingCertificate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-wire-tls-"));
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    await execa("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=kube-wire",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
    return { cert: await readFile(cert, "utf8"), key: await readFile(key, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
