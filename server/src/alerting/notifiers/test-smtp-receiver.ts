/**
 * Test helper: a real SMTP server (the `smtp-server` package) on 127.0.0.1:0 that requires a login,
 * offers STARTTLS (or speaks TLS from the start) with a self-signed certificate for 127.0.0.1, and
 * parses every accepted message with `mailparser`. Its answer to each delivery is programmable
 * (accept, a 451 "try later", a 550 refusal). Used by tests only.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';

export type SmtpAnswer = 'accept' | 'transient' | 'permanent';

export interface ReceivedMail {
  mail: ParsedMail;
  /** Whether the session was TLS when the message arrived (STARTTLS or smtps). */
  secure: boolean;
  user: string | undefined;
  envelopeTo: string[];
}

export interface SmtpReceiver {
  port: number;
  /** smtp[s]://USER:PASSWORD@127.0.0.1:PORT */
  url: string;
  user: string;
  password: string;
  /** The PEM certificate to trust (EmailNotifierOptions.tlsCa). */
  ca: string;
  mails: ReceivedMail[];
  /** Messages the server was asked to take (accepted or not). */
  attempts: number;
  /** Sets the answer to the next deliveries; `answers` are used in order, then `then` for the rest. */
  answer(answers: SmtpAnswer[], then?: SmtpAnswer): void;
  close(): Promise<void>;
}

export interface SmtpReceiverOptions {
  /** true: TLS from the first byte (smtps://); false: plain with STARTTLS offered. */
  implicitTls?: boolean;
  user?: string;
  password?: string;
}

/** startSmtpReceiver starts the server and resolves once it listens. */
export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const user = options.user ?? 'alerts';
  const password = options.password ?? 'Sm7p-pa55-w0rd-never-logged';
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  let queued: SmtpAnswer[] = [];
  let fallback: SmtpAnswer = 'accept';
  const mails: ReceivedMail[] = [];
  const receiver = { attempts: 0 };
  const server = new SMTPServer({
    secure: options.implicitTls === true,
    key: pems.private,
    cert: pems.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      const answer = queued[0] ?? fallback;
      if (answer === 'permanent') {
        receiver.attempts++;
        queued.shift();
        callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      receiver.attempts++;
      const answer = queued.shift() ?? fallback;
      simpleParser(stream).then(
        (mail) => {
          if (answer === 'transient') {
            callback(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 }));
            return;
          }
          mails.push({ mail, secure: session.secure, user: session.user as string | undefined, envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address) });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `${options.implicitTls ? 'smtps' : 'smtp'}://${user}:${password}@127.0.0.1:${port}`,
    user,
    password,
    ca: pems.cert,
    mails,
    get attempts() {
      return receiver.attempts;
    },
    answer(answers, then = 'accept') {
      queued = [...answers];
      fallback = then;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
