import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ErrorEnvelope } from './common/errors/error-envelope';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Proximity API')
    .setDescription(
      'Self-hosted application store for Proxmox VE. Errors always use the ErrorEnvelope schema; ' +
        'every response carries an x-request-id header.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description: 'Access JWT or personal API token',
    })
    .build();
  return SwaggerModule.createDocument(app, config, {
    extraModels: [ErrorEnvelope],
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}
