from django.contrib.auth import get_user_model
from rest_framework import serializers

from reviewapp.models import ApiToken, Invitation, Membership, Review

User = get_user_model()

ROLES = ["lead", "reviewer", "arbiter", "viewer"]


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = [
            "id",
            "title",
            "population",
            "intervention",
            "comparison",
            "outcomes",
            "protocol_registration",
            "inclusion_criteria",
            "exclusion_criteria",
            "created_at",
            "updated_at",
            "deleted_at",
            "purge_after",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "deleted_at", "purge_after"]

    purge_after = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Deleted reviews: restorable until then."
    )
    inclusion_criteria = serializers.ListField(child=serializers.CharField(), required=False)
    exclusion_criteria = serializers.ListField(child=serializers.CharField(), required=False)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "roles", "created_at"]


class InviteSerializer(serializers.Serializer):
    who = serializers.CharField(help_text="Username or e-mail address.")
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), min_length=1)


class RolesSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES))


class InvitationSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None)
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "roles",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "is_expired",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The last part of the invitation link.")


class ApiTokenSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="token_key", read_only=True)
    expires_at = serializers.DateTimeField(source="expiry", read_only=True)
    created_at = serializers.DateTimeField(source="created", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["key", "name", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    days = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Lifetime; 0: never expires."
    )


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once: only a digest is kept.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields


class ObtainTokenSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, required=False, default="", help_text="Defaults to 'API token <date>'."
    )
    days = serializers.IntegerField(required=False, allow_null=True, default=None)
