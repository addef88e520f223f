import { AppError } from '../http/app-error.ts';

export const keyExists = (name: string) =>
  new AppError({ code: 'conflict', status: 409, message: `a key named ${name} already exists` });

export const keyNotFound = (name: string) =>
  new AppError({ code: 'not_found', status: 404, message: `no key named ${name}` });
