// Baseline for the STUN benchmark: the cheapest possible UDP server, echoing each datagram back.
import { createSocket } from 'node:dgram';
import { reportReady } from './child.js';

const socket = createSocket('udp4');
socket.on('message', (message, remote) => socket.send(message, remote.port, remote.address));
socket.bind(0, '127.0.0.1', () => reportReady(socket.address().port));
